package patrol

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/incident"
	"github.com/roomwatch/roomwatch/alerts/unsigned"
)

// TestUnsignedPatrolAlarm: past 10:00 on a working day an unsigned room
// raises patrol-unsigned like any alarm; signing resolves it.
func TestUnsignedPatrolAlarm(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Config.Unsigned = &unsigned.Config{Default: &unsigned.Hours{Workday: "10:00"}}
		o.Config.Unsigned.Defaults()
		o.RaiseAlarms = true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := e.js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	firing := func(room string) *alerts.Alarm {
		all, _ := alerts.LoadState(ctx, kv)
		for _, a := range all {
			if a.Rule == unsigned.Rule && a.Room == room && a.Labels["date"] == scenarioDay.Format(time.DateOnly) {
				return a
			}
		}
		return nil
	}
	e.clock.Set(scenarioDay.Add(10*time.Hour + 5*time.Minute))
	if err := e.srv.unsigned.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if a := firing("room2"); a == nil || a.State != alerts.Firing {
		t.Fatalf("room2 unsigned at 10:05: %+v", a)
	}
	so := &Signoff{Site: "main", Room: "room2", Date: scenarioDay.Format(time.DateOnly), By: "oper1", ByName: "张三", At: e.clock.Now()}
	if err := e.srv.store.Sign(ctx, so); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.unsigned.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if a := firing("room2"); a == nil || a.State != alerts.Resolved {
		t.Fatalf("room2 after signing: %+v", a)
	}
	if a := firing("room1"); a == nil || a.State != alerts.Firing {
		t.Fatalf("room1 (unsigned): %+v", a)
	}
}

// TestBrowserIncident: the monitor's tracker opens an incident for a
// room above its shutdown temperature; the screen shows it with its
// deadlines, drafts the report from the record, and it is completed and
// signed.
func TestBrowserIncident(t *testing.T) {
	icfg := &incident.Config{Classes: []incident.Class{{Name: "over-temperature", Title: map[string]string{"zh": "机房温度超过关机温度", "en": "Room above its shutdown temperature"},
		Match: incident.Match{Rules: []string{"room-temperature-critical"}}, Deadline: 4 * time.Hour, Responsible: "信息科值班长"}}}
	icfg.Defaults()
	e := newEnv(t, func(o *Options) { o.Incidents = icfg })
	bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acfg := alerts.DefaultConfig()
	ikv, err := incident.EnsureBucket(bctx, e.js, icfg)
	if err != nil {
		t.Fatal(err)
	}
	skv, _ := e.js.KeyValue(bctx, acfg.StateBucket)
	dkv, _ := e.js.KeyValue(bctx, acfg.DailyBucket)
	pub := alerts.NewPublisher(e.js, skv, alerts.PublisherOptions{}, nil)
	tracker, err := incident.NewTracker(icfg, incident.NewStore(e.js, ikv, dkv, icfg), e.js, pub,
		incident.Options{Sites: []string{"main"}, Inventory: e.srv.inventory(), Alarms: acfg, State: skv, Now: e.clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := scenarioDay.Add(9*time.Hour + 10*time.Minute)
	a := &alerts.Alarm{Schema: alerts.Schema, V: alerts.V, Fingerprint: "hot1", ID: alerts.OccurrenceID("hot1", started), Rule: "room-temperature-critical",
		Severity: alerts.Critical, State: alerts.Firing, Site: "main", Room: "room1", Device: "th1", ActiveAt: started, StartedAt: started, UpdatedAt: started,
		Text: map[string]string{"zh": "一号机房 温度 35.2 °C，超过停机温度", "en": "Room 1 at 35.2 °C, above shutdown temperature"}}
	if _, err := pub.Publish(bctx, a); err != nil {
		t.Fatal(err)
	}
	if err := tracker.Observe(bctx, a); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	login(t, ctx, e.url, "oper1")
	if s := text(t, ctx, ".incident-banner"); !strings.Contains(s, "13:10") {
		t.Errorf("overview banner: %q", s)
	}
	do(t, ctx, chromedp.Navigate(e.url+"/incidents"), chromedp.WaitVisible(chromedp.CSS("#incidents tr.incident")))
	if s := text(t, ctx, "#incidents .deadline"); !strings.Contains(s, "2026-11-25 13:10") || !strings.Contains(s, "剩余 3 小时 40 分钟") {
		t.Fatalf("deadline: %q", s)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#incidents tr.incident a")), chromedp.WaitVisible(chromedp.ID("timeline")))
	if s := text(t, ctx, "#timeline"); !strings.Contains(s, "35.2") {
		t.Errorf("timeline: %q", s)
	}
	shot(t, ctx, "incident-report")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#report-form textarea[name="cause"]`), "精密空调压缩机故障"),
		chromedp.SendKeys(chromedp.CSS(`#report-form textarea[name="measures"]`), "开启备用空调，关闭非必要服务器"),
		chromedp.Click(chromedp.ID("report-save")), chromedp.WaitVisible(chromedp.ID("report-sign")),
		chromedp.Click(chromedp.ID("report-sign")), chromedp.WaitVisible(chromedp.ID("report-signed")))
	if s := text(t, ctx, "#report-signed"); !strings.Contains(s, "张三") {
		t.Errorf("signed by %q", s)
	}
}
