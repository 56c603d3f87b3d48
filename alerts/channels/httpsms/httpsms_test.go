package httpsms

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
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
	apiKey      = "k3y-0f-the-sms-gateway-2026"
	chineseText = "【紧急】一号机房 市电中断,UPS 转电池供电,剩余 23 分钟 & <注意>。\"引号\" 与 'apostrophe'"
)

func message() *channels.Message {
	return &channels.Message{
		ID: "n-9", Severity: rules.Critical, Title: "【紧急】一号机房 市电中断", Text: chineseText,
		To: []channels.Recipient{
			{Name: "张三", Mobile: "13800138000"},
			{Name: "李四", Mobile: "13900139000"},
			{Name: "王五", Email: "wangwu@example.org"},
		},
	}
}

// request is what the gateway under test received.
type request struct {
	method, path, auth string
	query              map[string][]string
	body               string
}

// gateway records requests and answers with answer(mobile-less request
// count); a nil answer says 200 {"code":0,"msgid":"…"}.
type gateway struct {
	mu     sync.Mutex
	got    []request
	answer func(n int, r *http.Request, body string) (int, string)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.got = append(g.got, request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.URL.Query(), string(b)})
	n := len(g.got)
	g.mu.Unlock()
	status, a := 200, `{"code":0,"msgid":"m`+string(rune('0'+n))+`"}`
	if g.answer != nil {
		status, a = g.answer(n, r, string(b))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	w.WriteHeader(status)
	io.WriteString(w, a)
}

func start(t *testing.T, cfg Config, g *gateway) (*Gateway, *channeltest.Log) {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg.URL = strings.ReplaceAll(cfg.URL, "GATEWAY", srv.URL)
	log, buf := channeltest.Logger()
	gw, err := New("sms-test", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return gw, buf
}

func jsonConfig() Config {
	return Config{
		URL:           "GATEWAY/api/send",
		Headers:       map[string]string{"Content-Type": "application/json", "Authorization": "Bearer {{.Secret}}"},
		Body:          `{"mobile": {{json .Mobile}}, "name": {{json .Name}}, "content": {{json .Text}}}`,
		Secret:        apiKey,
		SuccessStatus: []int{200},
		SuccessMatch:  `"code":\s*0\b`,
		RefMatch:      `"msgid":\s*"([^"]+)"`,
	}
}

func TestJSONGatewayOneRequestPerMobile(t *testing.T) {
	g := &gateway{}
	gw, log := start(t, jsonConfig(), g)
	r, err := gw.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	if len(g.got) != 2 {
		t.Fatalf("%d requests, want one per mobile", len(g.got))
	}
	for i, want := range []struct{ mobile, name string }{{"13800138000", "张三"}, {"13900139000", "李四"}} {
		got := g.got[i]
		var body struct{ Mobile, Name, Content string }
		if err := json.Unmarshal([]byte(got.body), &body); err != nil {
			t.Fatalf("body %q: %v", got.body, err)
		}
		if got.method != "POST" || got.path != "/api/send" || got.auth != "Bearer "+apiKey ||
			body.Mobile != want.mobile || body.Name != want.name || body.Content != chineseText {
			t.Errorf("request %d: %+v", i, got)
		}
	}
	if r.Ref != "m1,m2" || !strings.Contains(r.Answer, `13900139000: HTTP 200 {"code":0,"msgid":"m2"}`) {
		t.Errorf("receipt %+v", r)
	}
	channeltest.NoLeak(t, []string{apiKey}, log.String())
}

func TestFormGatewayByGET(t *testing.T) {
	g := &gateway{answer: func(int, *http.Request, string) (int, string) { return 200, "OK 1 message" }}
	gw, _ := start(t, Config{
		Method:       "get",
		URL:          "GATEWAY/sms?user=roomwatch&pwd={{urlquery .Secret}}&mobile={{.Mobile}}&msg={{urlquery .Text}}",
		Secret:       "p&ss=w/rd",
		SuccessMatch: `^OK`,
	}, g)
	m := message()
	m.To = m.To[:1]
	if _, err := gw.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	q := g.got[0].query
	if g.got[0].method != "GET" || q["msg"][0] != chineseText || q["pwd"][0] != "p&ss=w/rd" || q["mobile"][0] != "13800138000" || g.got[0].body != "" {
		t.Errorf("%+v", g.got[0])
	}
}

func TestXMLGateway(t *testing.T) {
	g := &gateway{answer: func(int, *http.Request, string) (int, string) { return 200, "<result>0</result>" }}
	gw, _ := start(t, Config{
		URL:          "GATEWAY/ws",
		Body:         `<sms><to>{{xml .Mobile}}</to><text>{{xml .Text}}</text></sms>`,
		SuccessMatch: `<result>0</result>`,
	}, g)
	m := message()
	m.To = m.To[1:2]
	if _, err := gw.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var got struct {
		To   string `xml:"to"`
		Text string `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(g.got[0].body), &got); err != nil || got.Text != chineseText || got.To != "13900139000" {
		t.Errorf("%v %+v from %s", err, got, g.got[0].body)
	}
}

func TestAnswersNotUnderstoodAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		after  time.Duration
	}{
		{"no match", 200, `{"code":17,"msg":"余额不足"}`, 0},
		{"not a success status", 202, `{"code":0}`, 0},
		{"unavailable", 503, `busy`, 30 * time.Second},
		{"bad request", 400, `bad mobile`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateway{answer: func(int, *http.Request, string) (int, string) { return tc.status, tc.answer }}
			gw, log := start(t, jsonConfig(), g)
			r, err := gw.Send(context.Background(), message())
			if err == nil || !r.Retry || r.RetryAfter != tc.after {
				t.Fatalf("%v %+v", err, r)
			}
			if !strings.Contains(r.Answer, tc.answer) {
				t.Errorf("answer %q lacks %q", r.Answer, tc.answer)
			}
			channeltest.NoLeak(t, []string{apiKey}, err.Error(), log.String())
		})
	}
}

func TestEchoedSecretIsHidden(t *testing.T) {
	g := &gateway{answer: func(_ int, r *http.Request, _ string) (int, string) {
		return 401, "bad credentials: " + r.Header.Get("Authorization")
	}}
	gw, log := start(t, jsonConfig(), g)
	r, err := gw.Send(context.Background(), message())
	if err == nil || !strings.Contains(r.Answer, "bad credentials: Bearer <secret>") {
		t.Errorf("%v %q", err, r.Answer)
	}
	channeltest.NoLeak(t, []string{apiKey}, err.Error(), log.String(), r.Answer)
}

func TestRetryGoesOnlyToThoseNotYetAccepted(t *testing.T) {
	g := &gateway{answer: func(n int, _ *http.Request, body string) (int, string) {
		if n == 2 { // 李四's first attempt
			return 500, "internal error"
		}
		return 200, `{"code":0,"msgid":"x"}`
	}}
	gw, _ := start(t, jsonConfig(), g)
	if _, err := gw.Send(context.Background(), message()); err == nil {
		t.Fatal("partial failure accepted")
	}
	if _, err := gw.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if len(g.got) != 3 || !strings.Contains(g.got[2].body, "13900139000") {
		t.Errorf("requests: %+v", g.got)
	}
	if len(gw.sent) != 0 || len(gw.ids) != 0 {
		t.Errorf("still remembers %v", gw.sent)
	}
}

func TestNoMobile(t *testing.T) {
	gw, _ := start(t, jsonConfig(), &gateway{})
	m := message()
	m.To = m.To[2:]
	if r, err := gw.Send(context.Background(), m); err == nil || r.Retry {
		t.Errorf("%v %+v", err, r)
	}
}

func TestUnreachableLeaksNoSecret(t *testing.T) {
	dead := channeltest.DeadURL()
	log, buf := channeltest.Logger()
	cfg := jsonConfig()
	cfg.URL = dead + "/send?key={{urlquery .Secret}}"
	gw, err := New("down", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := gw.Send(context.Background(), message())
	if err == nil || !r.Retry {
		t.Fatalf("%v %+v", err, r)
	}
	channeltest.NoLeak(t, []string{apiKey}, err.Error(), buf.String(), r.Answer)
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"good", func(*Config) {}, nil},
		{"method", func(c *Config) { c.Method = "DELETE" }, []string{`c.method: "DELETE"`}},
		{"get with body", func(c *Config) { c.Method = "GET" }, []string{"c.body: a GET request has no body"}},
		{"no url", func(c *Config) { c.URL = "" }, []string{"c.url: missing"}},
		{"relative url", func(c *Config) { c.URL = "/send?to={{.Mobile}}" }, []string{"c.url: does not make"}},
		{"syntax", func(c *Config) { c.Body = `{"to": {{json .Mobile}` }, []string{"c.body: template: body:1"}},
		{"unknown field", func(c *Config) { c.Body = `{{.Mobil}}` }, []string{"c.body:", "Mobil"}},
		{"unknown func", func(c *Config) { c.Headers["X-Sign"] = `{{md5 .Text}}` }, []string{"c.headers.X-Sign:", "md5"}},
		{"status", func(c *Config) { c.SuccessStatus = []int{200, 2000} }, []string{"c.success_status: item 2"}},
		{"regexp", func(c *Config) { c.SuccessMatch = `"code":(` }, []string{"c.success_match:"}},
		{"ref group", func(c *Config) { c.RefMatch = `msgid` }, []string{"c.ref_match: needs a group"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := jsonConfig()
			c.URL = "https://sms.example.org/api"
			tc.edit(&c)
			channeltest.Problems(t, tc.name, &c, tc.want)
		})
	}
}

func TestConfigDecodesWithLines(t *testing.T) {
	doc := "channels:\n  sms:\n    url: https://sms.example.org/send\n    body: '{{.Mobil}}'\n    secret: {env: SMS_KEY}\n"
	t.Setenv("SMS_KEY", apiKey)
	var c struct {
		Channels map[string]Config `yaml:"channels"`
	}
	f, err := yamlconf.Decode("notify.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	errs := yamlconf.Errors{File: f}
	cfg := c.Channels["sms"]
	cfg.Validate(&errs, "channels.sms")
	if err := errs.Err(); err == nil || !strings.HasPrefix(err.Error(), "notify.yaml:4: channels.sms.body:") {
		t.Errorf("%v", err)
	}
	if cfg.Secret != apiKey {
		t.Error("secret not read from the environment")
	}
}
