package channels

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	u, _ := url.Parse("https://user:pw@qyapi.example/cgi-bin/webhook/send?key=SECRET&b=2#frag")
	if got := Redact(u); got != "https://qyapi.example/cgi-bin/webhook/send?b=…&key=…" {
		t.Errorf("Redact = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"短信", 6, "短信"},
		{"市电中断", 10, "市电…"},
		{"市电中断", 8, "市…"},
		{"abcdef", 4, "a…"},
	} {
		if got := Truncate(tc.s, tc.max); got != tc.want || len(got) > tc.max {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
	}
}

func TestAnswerRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"Tue, 01 Dec 2026 08:00:30 GMT": 30 * time.Second,
		"soon":                          0,
	} {
		a := Answer{Header: http.Header{}}
		if v != "" {
			a.Header.Set("Retry-After", v)
		}
		if got := a.RetryAfter(now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

func TestPostJSONKeepsChineseAndHTML(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Write([]byte(`{"errcode":0}`))
	}))
	defer srv.Close()
	a, r, err := PostJSON(context.Background(), HTTPOptions{}.Client(), srv.URL, map[string]string{"content": "温度 <28.4 ℃> & 湿度"})
	if err != nil || a.Status != 200 || r.Answer != `HTTP 200 {"errcode":0}` {
		t.Fatalf("%v %+v %+v", err, a, r)
	}
	if body != `{"content":"温度 <28.4 ℃> & 湿度"}`+"\n" {
		t.Errorf("body %q", body)
	}
	code, _, ok := ParseVendorAnswer(a.Body, nil)
	if !ok || code != 0 {
		t.Errorf("errcode %d %v", code, ok)
	}
	if _, _, ok := ParseVendorAnswer([]byte(`{"errmsg":"ok"}`), nil); ok {
		t.Error("an answer without errcode was understood")
	}
}
