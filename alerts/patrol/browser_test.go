package patrol

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for t, or skips (fails under CI=true)
// when it is missing. Each call is a fresh browser profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testutil.PeerMissing(t, "chromium missing at %s (run .ci/install-peers)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 1600), chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			shot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "_"))
		}
		cancelT()
		cancelC()
		cancelA()
	})
	return ctx
}

// shot saves a full-page screenshot as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) {
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return a.Value
}

func login(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("rooms")),
	)
}

func logout(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.CSS("button.link")), chromedp.WaitVisible(chromedp.ID("login-submit")))
}

var recordPath = "/room/main/room1/" + scenarioDay.Format(time.DateOnly)

// TestBrowserSignOff walks the patrol: log in, read the record filled
// from the scenario, tick the manual items, be refused signing without a
// scan, scan the room's code, sign, see the record locked, correct it as
// a new revision.
func TestBrowserSignOff(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)

	// The admin prints room1's code.
	login(t, ctx, e.url, "admin1")
	do(t, ctx, chromedp.Navigate(e.url+"/room/main/room1/qr"), chromedp.WaitVisible(chromedp.CSS("#qr svg")))
	link := text(t, ctx, "#qr-link")
	if !strings.Contains(link, "/scan?t=") {
		t.Fatalf("qr link %q", link)
	}
	logout(t, ctx)

	// The operator: overview, then the record.
	login(t, ctx, e.url, "oper1")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#room-main-room1.st-alarm, #room-main-room1.st-warning`)))
	shot(t, ctx, "overview")
	do(t, ctx, chromedp.Navigate(e.url+recordPath), chromedp.WaitVisible(chromedp.ID("record")))
	for sel, want := range map[string]string{
		`tr[id="item-power.ups1.source"]`:     "ok",
		`tr[id="item-power.ups1.mains_loss"]`: "abnormal",
		`tr[id="item-door.di1"]`:              "abnormal",
		`tr[id="item-env.th1.temperature_c"]`: "ok",
		`tr[id="item-water.di1.water_leak"]`:  "ok",
	} {
		if got := attr(t, ctx, sel, "data-verdict"); got != want {
			t.Errorf("%s: verdict %q, want %q", sel, got, want)
		}
	}
	if s := text(t, ctx, `tr[id="item-door.di1"]`); !strings.Contains(s, "非工作时间 1 次") {
		t.Errorf("door evidence %q lacks the after-hours opening", s)
	}
	if s := text(t, ctx, `tr[id="item-power.ups1.mains_loss"]`); !strings.Contains(s, "02:10") || !strings.Contains(s, "02:35") {
		t.Errorf("mains evidence %q lacks the episode", s)
	}
	if s := text(t, ctx, "#alarms"); !strings.Contains(s, "张三") {
		t.Errorf("alarms %q do not say who was told", s)
	}

	// Tick the manual items, one abnormal with a remark.
	for _, it := range DefaultManualItems() {
		res := "ok"
		if it.ID == "cleanliness" {
			res = "abnormal"
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="m_%s"][value="%s"]`, it.ID, res))))
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name="r_cleanliness"]`), "地面有纸箱"),
		chromedp.Click(chromedp.ID("tick-submit")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := attr(t, ctx, "#manual-cleanliness", "data-result"); got != "abnormal" {
		t.Fatalf("cleanliness ticked %q", got)
	}

	// On a phone: one column, large touch targets.
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload())
	if h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("sign-submit").getBoundingClientRect().height`)); err != nil || h < 44 {
		t.Errorf("sign button %v px high on a phone (want ≥ 44): %v", h, err)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("page %v px wide on a 390 px phone: %v", w, err)
	}
	shot(t, ctx, "record-phone")
	do(t, ctx, chromedp.EmulateReset(), chromedp.Reload())

	// Signing without a scan is refused.
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("presence-missing")), chromedp.Click(chromedp.ID("sign-submit")), chromedp.WaitVisible(chromedp.ID("error-message")))
	if s := text(t, ctx, "#error-message"); !strings.Contains(s, "扫描二维码") {
		t.Fatalf("sign without scan: %q", s)
	}

	// Scan, then sign: the record is locked.
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("presence")))
	do(t, ctx, chromedp.Navigate(e.url+recordPath), chromedp.WaitVisible(chromedp.ID("presence")),
		chromedp.SendKeys(chromedp.ID("remarks"), "夜间市电中断已恢复，门禁记录已核实"),
		chromedp.Click(chromedp.ID("sign-submit")), chromedp.WaitVisible(chromedp.ID("locked")))
	if s := text(t, ctx, "#signed-by"); !strings.Contains(s, "张三") {
		t.Errorf("signed by %q", s)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tick-form, #sign-form").length`)); err != nil || n != 0 {
		t.Errorf("forms still on a locked record: %d %v", n, err)
	}
	shot(t, ctx, "record-signed")
	signed, err := e.srv.store.Signoffs(context.Background(), "main", "room1", scenarioDay.Format(time.DateOnly))
	if err != nil || len(signed) != 1 || signed[0].PresenceAt == nil || signed[0].Verdicts["power.ups1.mains_loss"] != VerdictAbnormal {
		t.Fatalf("stored signature: %+v %v", signed, err)
	}
	logout(t, ctx)

	// The admin corrects it: a new revision, the old one kept.
	login(t, ctx, e.url, "admin1")
	do(t, ctx, chromedp.Navigate(e.url+recordPath), chromedp.WaitVisible(chromedp.ID("revise-form")),
		chromedp.SendKeys(chromedp.ID("reason"), "纸箱已清理，更正整洁项"),
		chromedp.Click(chromedp.CSS(`#revise-form input[name="m_cleanliness"][value="ok"]`)),
		chromedp.Click(chromedp.ID("revise-submit")), chromedp.WaitVisible(chromedp.ID("rev-2")))
	if !strings.Contains(text(t, ctx, "#rev-1"), "张三") || !strings.Contains(text(t, ctx, "#signature h2"), "2") {
		t.Errorf("revisions: %q / %q", text(t, ctx, "#revisions"), text(t, ctx, "#signature h2"))
	}
	signed, _ = e.srv.store.Signoffs(context.Background(), "main", "room1", scenarioDay.Format(time.DateOnly))
	if len(signed) != 2 || signed[1].Supersedes != 1 || signed[1].Manual["cleanliness"].Result != ResultOK || signed[0].Manual["cleanliness"].Result != ResultAbnormal {
		t.Fatalf("revisions stored: %+v", signed)
	}
}

// TestBrowserAck acknowledges an alarm from the record page and sees the
// acknowledgement arrive on NATS.
func TestBrowserAck(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	acks := make(chan []byte, 4)
	sub, err := e.nc.Subscribe(alerts.AckSubjectPrefix+".>", func(m *nats.Msg) { acks <- m.Data })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	login(t, ctx, e.url, "oper1")
	do(t, ctx, chromedp.Navigate(e.url+recordPath), chromedp.WaitVisible(chromedp.CSS("form.ack")),
		chromedp.SendKeys(chromedp.CSS(`form.ack input[name="comment"]`), "已到场处理"),
		chromedp.Click(chromedp.CSS("form.ack button")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	select {
	case data := <-acks:
		k, err := alerts.UnmarshalAck(data)
		if err != nil {
			t.Fatal(err)
		}
		if k.Via != alerts.AckViaPatrol || k.By != "张三" || k.Comment != "已到场处理" || k.Site != "main" || k.Room != "room1" {
			t.Errorf("ack %+v", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no acknowledgement on NATS within 10s")
	}
}

// TestBrowserViewerCannotSign: a viewer sees no forms, and a forged post
// from the viewer's own session is refused by role.
func TestBrowserViewerCannotSign(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	login(t, ctx, e.url, "viewer1")
	do(t, ctx, chromedp.Navigate(e.url+recordPath), chromedp.WaitVisible(chromedp.ID("record")))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sign-form, #tick-form, form.ack").length`)); n != 0 {
		t.Fatalf("viewer sees %d forms", n)
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(function(){var f=document.createElement("form");f.method="post";f.action=location.pathname+"/sign";document.body.appendChild(f);f.submit();})()`),
		chromedp.WaitVisible(chromedp.ID("error-message")))
	if s := text(t, ctx, "#error-message"); !strings.Contains(s, "无权") {
		t.Fatalf("viewer sign: %q", s)
	}
	if revs, _ := e.srv.store.Signoffs(context.Background(), "main", "room1", scenarioDay.Format(time.DateOnly)); len(revs) != 0 {
		t.Fatalf("viewer signed: %+v", revs)
	}
}

// TestBrowserCrossOrigin: a form on another origin posting to the screen
// with the operator's cookie is refused.
func TestBrowserCrossOrigin(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s%s/tick"><input name="m_backup" value="ok"><button id="go">go</button></form>`, e.url, recordPath)
	}))
	defer evil.Close()
	login(t, ctx, e.url, "oper1")
	do(t, ctx, chromedp.Navigate(evil.URL), chromedp.Click(chromedp.ID("go")), chromedp.WaitVisible(chromedp.ID("error-message")))
	if s := text(t, ctx, "#error-message"); !strings.Contains(s, "跨站") {
		t.Fatalf("cross-origin post: %q", s)
	}
	m, _, _ := e.srv.store.Manual(context.Background(), "main", "room1", scenarioDay.Format(time.DateOnly))
	if len(m.Items) != 0 {
		t.Fatalf("cross-origin post changed the record: %+v", m.Items)
	}
}

// TestBrowserLiveOverview: a wall screen's overview follows a signature
// made elsewhere without reloading.
func TestBrowserLiveOverview(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	login(t, ctx, e.url, "viewer1")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#live.on")),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	if s := text(t, ctx, `#room-main-room2 [data-f="signed_text"]`); !strings.Contains(s, "未签名") {
		t.Fatalf("room2 before: %q", s)
	}
	so := &Signoff{Site: "main", Room: "room2", Date: scenarioDay.Format(time.DateOnly), By: "oper1", ByName: "张三", At: scenarioNow}
	if err := e.srv.store.Sign(context.Background(), so); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelector('#room-main-room2 [data-f="signed_text"]').textContent.includes("已签名")`, chromedp.WithPollingTimeout(15*time.Second)))
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true`)); err != nil || !ok {
		t.Fatalf("the overview reloaded: %v %v", ok, err)
	}
}
