package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/channeltest"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

const (
	robotKey  = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	corpID    = "ww0123456789abcdef"
	appSecret = "YsXoe-app-secret-0123456789"
)

// chineseText is a storm message: the worst line first, then the rest.
const chineseText = "【紧急】一号机房 市电中断,UPS 转电池供电,剩余 23 分钟。另有 3 条告警:温度 28.4 ℃ 偏高;湿度 71 % 偏高;门磁 打开。"

func message() *channels.Message {
	return &channels.Message{
		ID:       "n-1",
		Severity: rules.Critical,
		Title:    "【紧急】一号机房 市电中断",
		Text:     chineseText,
		Markdown: "## 【紧急】一号机房 市电中断\n> UPS 转电池供电,剩余 **23 分钟**",
		To: []channels.Recipient{
			{Name: "张三", Mobile: "13800138000", WeComUser: "zhangsan"},
			{Name: "李四", Mobile: "13900139000", WeComUser: "lisi"},
			{Name: "张三", Mobile: "13800138000", WeComUser: "zhangsan"},
			{Name: "王五", Mobile: "13700137000"},
		},
	}
}

// fakeWeCom answers as WeCom documents and records what it was sent.
type fakeWeCom struct {
	t  *testing.T
	mu sync.Mutex
	// answers to message/send and webhook/send, in turn; the last repeats
	send     []string
	tokens   int // gettoken calls
	bodies   []map[string]any
	sendToks []string
}

func (f *fakeWeCom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cgi-bin/gettoken":
		// 获取access_token: GET ?corpid=ID&corpsecret=SECRET
		if r.Method != http.MethodGet || r.URL.Query().Get("corpid") != corpID {
			f.t.Errorf("gettoken: %s %s", r.Method, r.URL.Path)
		}
		if r.URL.Query().Get("corpsecret") != appSecret {
			io.WriteString(w, `{"errcode":40001,"errmsg":"invalid secret"}`)
			return
		}
		f.tokens++
		io.WriteString(w, `{"errcode":0,"errmsg":"ok","access_token":"accesstoken00000`+string(rune('0'+f.tokens))+`","expires_in":7200}`)
		return
	case "/cgi-bin/webhook/send":
		if got := r.URL.Query().Get("key"); got != robotKey {
			f.t.Errorf("webhook key %q", got)
		}
	case "/cgi-bin/message/send":
		f.sendToks = append(f.sendToks, r.URL.Query().Get("access_token"))
	default:
		f.t.Errorf("unexpected path %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.t.Errorf("%s with %s, want POST application/json", r.Method, r.Header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("body: %v", err)
	}
	f.bodies = append(f.bodies, body)
	a := `{"errcode":0,"errmsg":"ok"}`
	if len(f.send) > 0 {
		a = f.send[0]
		if len(f.send) > 1 {
			f.send = f.send[1:]
		}
	}
	if strings.HasPrefix(a, "HTTP ") { // a raw status, from a proxy
		w.WriteHeader(http.StatusBadGateway)
		a = strings.TrimPrefix(a, "HTTP ")
	}
	io.WriteString(w, a)
}

func start(t *testing.T, cfg Config, answers ...string) (*WeCom, *fakeWeCom, *channeltest.Log) {
	t.Helper()
	f := &fakeWeCom{t: t, send: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + "/"
	log, buf := channeltest.Logger()
	w, err := New("wecom-test", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return w, f, buf
}

func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func robotCfg(msgtype string) Config {
	return Config{Kind: KindRobot, Key: robotKey, MsgType: msgtype}
}

func appCfg() Config {
	return Config{Kind: KindApp, CorpID: corpID, Secret: appSecret, AgentID: 1000002}
}

func TestRobotTextMentions(t *testing.T) {
	w, f, _ := start(t, robotCfg(""))
	r, err := w.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	// By user id where known, else by mobile.
	want := jsonOf(t, `{"msgtype":"text","text":{"content":"`+chineseText+`","mentioned_list":["zhangsan","lisi"],"mentioned_mobile_list":["13700137000"]}}`)
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
	if r.Answer != `HTTP 200 {"errcode":0,"errmsg":"ok"}` {
		t.Errorf("answer %q", r.Answer)
	}
}

func TestRobotMarkdown(t *testing.T) {
	w, f, _ := start(t, robotCfg(MsgMarkdown))
	if _, err := w.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": message().Markdown + " <@zhangsan> <@lisi>"}}
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
}

func TestRobotLongTextIsCutAtACharacter(t *testing.T) {
	w, f, _ := start(t, robotCfg(MsgText))
	m := message()
	m.Text = strings.Repeat("市电中断", 300) // 3600 bytes
	if _, err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := f.bodies[0]["text"].(map[string]any)["content"].(string)
	if len(got) > maxText || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "市电中断市电中断") {
		t.Errorf("content of %d bytes: %q…", len(got), got[:30])
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		retry        bool
		after        time.Duration
	}{
		{"rate limited", `{"errcode":45009,"errmsg":"api freq out of limit"}`, true, time.Minute},
		{"busy", `{"errcode":-1,"errmsg":"system busy"}`, true, 0},
		{"unknown code", `{"errcode":93000,"errmsg":"invalid webhook url"}`, true, 0},
		{"not json", `<html>502 Bad Gateway</html>`, true, 0},
		{"proxy error", `HTTP <html>bad gateway</html>`, true, 0},
		{"no errcode", `{"ok":true}`, true, 0},
		{"all recipients invalid", `{"errcode":81013,"errmsg":"user & party & tag all invalid"}`, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _, log := start(t, robotCfg(""), tc.answer)
			r, err := w.Send(context.Background(), message())
			if err == nil {
				t.Fatal("accepted")
			}
			if r.Retry != tc.retry || r.RetryAfter != tc.after || r.Unknown {
				t.Errorf("receipt %+v, want retry %v after %v", r, tc.retry, tc.after)
			}
			if !strings.Contains(r.Answer, strings.TrimPrefix(tc.answer, "HTTP ")) {
				t.Errorf("answer %q lacks %q", r.Answer, tc.answer)
			}
			channeltest.NoLeak(t, []string{robotKey}, err.Error(), log.String())
		})
	}
}

func TestAppSendsToUsersWithACachedToken(t *testing.T) {
	w, f, log := start(t, appCfg(), `{"errcode":0,"errmsg":"ok","invaliduser":"","msgid":"msg-42"}`)
	for range 2 {
		r, err := w.Send(context.Background(), message())
		if err != nil {
			t.Fatal(err)
		}
		if r.Ref != "msg-42" {
			t.Errorf("ref %q", r.Ref)
		}
	}
	want := jsonOf(t, `{"touser":"zhangsan|lisi","msgtype":"text","agentid":1000002,"text":{"content":"`+chineseText+`"}}`)
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
	if f.tokens != 1 || !reflect.DeepEqual(f.sendToks, []string{"accesstoken000001", "accesstoken000001"}) {
		t.Errorf("gettoken %d times, sent with %v", f.tokens, f.sendToks)
	}
	channeltest.NoLeak(t, []string{appSecret, "accesstoken000001"}, log.String())
}

func TestAppConcurrentSendsShareOneToken(t *testing.T) {
	w, f, _ := start(t, appCfg())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := w.Send(context.Background(), message()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.tokens != 1 || len(f.sendToks) != 8 {
		t.Errorf("gettoken %d times for %d sends", f.tokens, len(f.sendToks))
	}
}

func TestAppMarkdown(t *testing.T) {
	cfg := appCfg()
	cfg.MsgType = MsgMarkdown
	w, f, _ := start(t, cfg)
	if _, err := w.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"touser": "zhangsan|lisi", "msgtype": "markdown", "agentid": float64(1000002),
		"markdown": map[string]any{"content": message().Markdown}}
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
}

func TestAppTokenExpiresByItsLifetime(t *testing.T) {
	w, f, _ := start(t, appCfg())
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	if _, err := w.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(100 * time.Minute) // within 7200 s less a tenth
	if _, err := w.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute) // past 108 minutes
	if _, err := w.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if f.tokens != 2 || !reflect.DeepEqual(f.sendToks, []string{"accesstoken000001", "accesstoken000001", "accesstoken000002"}) {
		t.Errorf("gettoken %d times, sent with %v", f.tokens, f.sendToks)
	}
}

func TestAppRefreshesARefusedTokenOnce(t *testing.T) {
	for _, code := range []string{"42001", "40014"} {
		t.Run(code, func(t *testing.T) {
			refused := `{"errcode":` + code + `,"errmsg":"access_token expired"}`
			w, f, _ := start(t, appCfg(), refused, `{"errcode":0,"errmsg":"ok","msgid":"m2"}`)
			r, err := w.Send(context.Background(), message())
			if err != nil || r.Ref != "m2" {
				t.Fatalf("send: %v %+v", err, r)
			}
			if f.tokens != 2 || !reflect.DeepEqual(f.sendToks, []string{"accesstoken000001", "accesstoken000002"}) {
				t.Errorf("gettoken %d times, sent with %v", f.tokens, f.sendToks)
			}
		})
	}
	t.Run("refused twice", func(t *testing.T) {
		refused := `{"errcode":42001,"errmsg":"access_token expired"}`
		w, f, log := start(t, appCfg(), refused)
		r, err := w.Send(context.Background(), message())
		if err == nil || !r.Retry || !strings.Contains(r.Answer, "42001") {
			t.Fatalf("send: %v %+v", err, r)
		}
		if f.tokens != 2 || len(f.sendToks) != 2 {
			t.Errorf("gettoken %d times, %d sends; want 2 and 2", f.tokens, len(f.sendToks))
		}
		channeltest.NoLeak(t, []string{appSecret, "accesstoken000001", "accesstoken000002"}, err.Error(), log.String(), r.Answer)
	})
}

func TestAppRateLimited(t *testing.T) {
	w, _, _ := start(t, appCfg(), `{"errcode":45009,"errmsg":"api freq out of limit"}`)
	r, err := w.Send(context.Background(), message())
	if err == nil || !r.Retry || r.RetryAfter != time.Minute {
		t.Errorf("%v %+v", err, r)
	}
}

func TestAppBadSecretIsNotRetried(t *testing.T) {
	cfg := appCfg()
	cfg.Secret = "wrong-secret-value"
	w, _, log := start(t, cfg)
	r, err := w.Send(context.Background(), message())
	if err == nil || r.Retry || !strings.Contains(r.Answer, "40001") {
		t.Errorf("%v %+v", err, r)
	}
	channeltest.NoLeak(t, []string{"wrong-secret-value"}, err.Error(), log.String(), r.Answer)
}

func TestAppNeedsUserIDs(t *testing.T) {
	w, f, _ := start(t, appCfg())
	m := message()
	m.To = []channels.Recipient{{Name: "王五", Mobile: "13700137000"}}
	if r, err := w.Send(context.Background(), m); err == nil || r.Retry {
		t.Errorf("%v %+v", err, r)
	}
	if f.tokens != 0 {
		t.Error("fetched a token for nothing")
	}
}

func TestUnreachableLeaksNoSecret(t *testing.T) {
	dead := channeltest.DeadURL()
	log, buf := channeltest.Logger()
	for _, cfg := range []Config{robotCfg(""), appCfg()} {
		cfg.BaseURL = dead
		cfg.Timeout = 2 * time.Second
		w, err := New("wecom-down", cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		r, err := w.Send(context.Background(), message())
		if err == nil || !r.Retry {
			t.Fatalf("%v %+v", err, r)
		}
		channeltest.NoLeak(t, []string{robotKey, appSecret}, err.Error(), buf.String())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{robotCfg(""), nil},
		{appCfg(), nil},
		{Config{}, []string{"c.kind: missing"}},
		{Config{Kind: "bot", Key: "k"}, []string{`c.kind: "bot" is not`}},
		{Config{Kind: KindRobot}, []string{"c.key: a robot needs"}},
		{Config{Kind: KindRobot, Key: "k", CorpID: "x"}, []string{"c.kind: corp_id"}},
		{Config{Kind: KindApp}, []string{"c.corp_id", "c.secret", "c.agent_id"}},
		{Config{Kind: KindRobot, Key: "k", MsgType: "news", BaseURL: "ftp://x"}, []string{"c.msgtype", "c.base_url"}},
		{Config{Kind: KindRobot, Key: "k", HTTPOptions: channels.HTTPOptions{Timeout: -1}}, []string{"c.timeout"}},
	} {
		channeltest.Problems(t, fmt.Sprintf("%+v", tc.cfg), &tc.cfg, tc.want)
	}
	if _, err := New("x", Config{}, nil); err == nil {
		t.Error("New took an invalid config")
	}
}

func TestConfigDecodes(t *testing.T) {
	t.Setenv("WECOM_SECRET", appSecret)
	var c Config
	_, err := yamlconf.Decode("n.yaml", []byte("kind: app\ncorp_id: "+corpID+"\nsecret: {env: WECOM_SECRET}\nagent_id: 1000002\ntimeout: 5s\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret != appSecret || c.AgentID != 1000002 || c.Timeout != 5*time.Second {
		t.Errorf("%+v", c)
	}
}

func TestLimit(t *testing.T) {
	r, _, _ := start(t, robotCfg(""))
	a, _, _ := start(t, appCfg())
	if r.Limit() != (channels.Limit{Messages: 20, Per: time.Minute}) || a.Limit() != (channels.Limit{}) {
		t.Errorf("robot %+v, app %+v", r.Limit(), a.Limit())
	}
}
