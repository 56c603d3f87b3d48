package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/channeltest"
	"github.com/roomwatch/roomwatch/rules"
)

const (
	robotToken  = "566cc69da782ec0123456789abcdef0123456789abcdef"
	robotSecret = "SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc"
	chineseText = "【紧急】一号机房 市电中断,UPS 转电池供电,剩余 23 分钟。另有 2 条告警:温度 28.4 ℃ 偏高;门磁 打开。"
)

func message() *channels.Message {
	return &channels.Message{
		ID: "n-7", Severity: rules.Critical,
		Title:    "【紧急】一号机房 市电中断",
		Text:     chineseText,
		Markdown: "### 一号机房 市电中断\n> 剩余 **23 分钟**",
		To:       []channels.Recipient{{Name: "张三", Mobile: "13800138000"}, {Name: "李四", Mobile: "13900139000"}},
	}
}

// fakeRobot checks each request as DingTalk documents it: the access
// token, and with a secret the millisecond timestamp and its signature,
// recomputed here from the documented recipe.
type fakeRobot struct {
	t       *testing.T
	secret  string
	answer  string
	mu      sync.Mutex
	bodies  []map[string]any
	rawSign []string
}

func (f *fakeRobot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.t.Errorf("%s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if q.Get("access_token") != robotToken {
		f.t.Error("wrong access_token")
	}
	if f.secret != "" {
		ts := q.Get("timestamp")
		if _, err := strconv.ParseInt(ts, 10, 64); err != nil || len(ts) != 13 {
			f.t.Errorf("timestamp %q is not in milliseconds", ts)
		}
		// timestamp + "\n" + secret, HmacSHA256 keyed by the secret,
		// Base64, then urlEncode.
		mac := hmac.New(sha256.New, []byte(f.secret))
		mac.Write([]byte(ts + "\n" + f.secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if q.Get("sign") != want {
			f.t.Errorf("sign %q, want %q", q.Get("sign"), want)
		}
		for _, kv := range strings.Split(r.URL.RawQuery, "&") {
			if v, ok := strings.CutPrefix(kv, "sign="); ok {
				f.rawSign = append(f.rawSign, v)
				if v != url.QueryEscape(want) {
					f.t.Errorf("raw sign %q is not the url-encoded signature %q", v, url.QueryEscape(want))
				}
			}
		}
	} else if q.Has("sign") || q.Has("timestamp") {
		f.t.Error("unsigned robot sent a signature")
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("body: %v", err)
	}
	f.bodies = append(f.bodies, body)
	a := f.answer
	if a == "" {
		a = `{"errcode":0,"errmsg":"ok"}`
	}
	io.WriteString(w, a)
}

func start(t *testing.T, cfg Config, answer string) (*Robot, *fakeRobot, *channeltest.Log) {
	t.Helper()
	f := &fakeRobot{t: t, secret: string(cfg.Secret), answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	cfg.AccessToken = robotToken
	log, buf := channeltest.Logger()
	d, err := New("dingtalk-test", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return d, f, buf
}

func TestSignedTextMentionsMobiles(t *testing.T) {
	d, f, _ := start(t, Config{Secret: robotSecret}, "")
	// Signs made at several instants, so that some signatures hold "+",
	// "/" or "=" and need escaping.
	for i := range 8 {
		at := time.UnixMilli(1764576000000 + int64(i)*7919)
		d.now = func() time.Time { return at }
		r, err := d.Send(context.Background(), message())
		if err != nil {
			t.Fatal(err)
		}
		if r.Answer != `HTTP 200 {"errcode":0,"errmsg":"ok"}` {
			t.Errorf("answer %q", r.Answer)
		}
	}
	var want map[string]any
	json.Unmarshal([]byte(`{"msgtype":"text","text":{"content":"`+chineseText+` @13800138000 @13900139000"},"at":{"atMobiles":["13800138000","13900139000"],"isAtAll":false}}`), &want)
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
	escaped := false
	for _, s := range f.rawSign {
		escaped = escaped || strings.Contains(s, "%")
	}
	if !escaped {
		t.Errorf("no signature needed escaping: %v", f.rawSign)
	}
}

func TestMarkdownNamesTheMentioned(t *testing.T) {
	d, f, _ := start(t, Config{Secret: robotSecret, MsgType: MsgMarkdown}, "")
	m := message()
	m.Markdown = "### 一号机房 市电中断\n> 剩余 **23 分钟** @13800138000"
	if _, err := d.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]any{"title": "【紧急】一号机房 市电中断", "text": "### 一号机房 市电中断\n> 剩余 **23 分钟** @13800138000 @13900139000"},
		"at":       map[string]any{"atMobiles": []any{"13800138000", "13900139000"}, "isAtAll": false},
	}
	if !reflect.DeepEqual(f.bodies[0], want) {
		t.Errorf("body\n%v\nwant\n%v", f.bodies[0], want)
	}
}

func TestUnsigned(t *testing.T) {
	d, f, _ := start(t, Config{}, "")
	m := message()
	m.To = nil
	if _, err := d.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := f.bodies[0]["at"]; !reflect.DeepEqual(got, map[string]any{"isAtAll": false}) {
		t.Errorf("at %v", got)
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// Computed with the Python recipe of 自定义机器人安全设置 (hmac.new
	// over f"{timestamp}\n{secret}" with sha256, b64encode, quote_plus).
	const ts, secret = "1577262236757", "this is secret"
	if got := Sign(ts, secret); got != "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=" {
		t.Errorf("Sign = %q", got)
	}
	if got := url.QueryEscape(Sign(ts, secret)); got != "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D" {
		t.Errorf("escaped %q", got)
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		retry        bool
		after        time.Duration
	}{
		{"too fast", `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, true, 10 * time.Minute},
		{"sign not match", `{"errcode":310000,"errmsg":"sign not match"}`, false, 0},
		{"busy", `{"errcode":-1,"errmsg":"系统繁忙"}`, true, 0},
		{"unknown", `{"errcode":400102,"errmsg":"机器人已停用"}`, true, 0},
		{"not json", `<html>网关错误</html>`, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, log := start(t, Config{Secret: robotSecret}, tc.answer)
			r, err := d.Send(context.Background(), message())
			if err == nil {
				t.Fatal("accepted")
			}
			if r.Retry != tc.retry || r.RetryAfter != tc.after || r.Answer != "HTTP 200 "+tc.answer {
				t.Errorf("receipt %+v", r)
			}
			channeltest.NoLeak(t, []string{robotToken, robotSecret}, err.Error(), log.String())
		})
	}
}

func TestUnreachableLeaksNoSecret(t *testing.T) {
	dead := channeltest.DeadURL()
	log, buf := channeltest.Logger()
	d, err := New("down", Config{AccessToken: robotToken, Secret: robotSecret, BaseURL: dead}, log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Send(context.Background(), message())
	if err == nil || !r.Retry {
		t.Fatalf("%v %+v", err, r)
	}
	channeltest.NoLeak(t, []string{robotToken, robotSecret}, err.Error(), buf.String())
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{AccessToken: "t"}, nil},
		{Config{}, []string{"c.access_token: missing"}},
		{Config{AccessToken: "t", MsgType: "link", BaseURL: "oapi"}, []string{"c.msgtype", "c.base_url"}},
	} {
		channeltest.Problems(t, fmt.Sprintf("%+v", tc.cfg), &tc.cfg, tc.want)
	}
}
