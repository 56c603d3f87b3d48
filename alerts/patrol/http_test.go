package patrol

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// client is a cookie-keeping HTTP client that does not follow redirects.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func httpLogin(t *testing.T, c *http.Client, base, user string) {
	t.Helper()
	if st, body := post(t, c, base+"/login", url.Values{"user": {user}, "password": {testPassword}}); st != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", user, st, body)
	}
}

// TestPlainErrors: bad input gets the plain error page, never a stack
// trace or an internal error, and anonymous users see nothing.
func TestPlainErrors(t *testing.T) {
	e := newEnv(t)
	anon := client(t)
	if st, _ := get(t, anon, e.url+"/"); st != http.StatusSeeOther {
		t.Errorf("anonymous overview: %d, want a redirect to login", st)
	}
	if st, body := get(t, anon, e.url+"/api/overview"); st != http.StatusUnauthorized || strings.Contains(body, "room1") {
		t.Errorf("anonymous API: %d %s", st, body)
	}
	c := client(t)
	httpLogin(t, c, e.url, "oper1")
	for _, tc := range []struct {
		path   string
		status int
		text   string
	}{
		{"/room/main/room1/2026-13-45", 400, "日期无效"},
		{"/room/main/room1/2026-11-26", 400, "日期无效"}, // tomorrow
		{"/room/main/nowhere/2026-11-25", 404, "没有这个机房"},
		{"/scan?t=Zm9v.YmFy", 400, "二维码无效"},
		{"/scan?t=" + roomToken([]byte("another key of 32 bytes or more!!"), "main", "room1", scenarioNow.Add(time.Hour)), 400, "二维码无效"},
		{"/scan?t=" + roomToken(e.srv.key, "main", "room1", scenarioNow.Add(-time.Minute)), 400, "二维码无效"},
		{"/history?from=yesterday", 400, "日期无效"},
		{"/nothing", 404, "页面不存在"},
		{"/audit", 403, "无权"},
	} {
		st, body := get(t, c, e.url+tc.path)
		if st != tc.status || !strings.Contains(body, tc.text) || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
			t.Errorf("GET %s: %d, want %d with %q:\n%.300s", tc.path, st, tc.status, tc.text, body)
		}
	}
	st, body := post(t, c, e.url+recordPath+"/tick", url.Values{"m_backup": {"maybe"}})
	if st != http.StatusBadRequest || !strings.Contains(body, "表单内容无效") {
		t.Errorf("tampered form: %d %.200s", st, body)
	}
	resp, err := c.Get(e.url + recordPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline: %s", csp)
	}
}

// TestLoginLimit: after five failures a client is refused even with the
// right password, and failures are audited.
func TestLoginLimit(t *testing.T) {
	e := newEnv(t)
	c := client(t)
	for i := range 5 {
		if st, _ := post(t, c, e.url+"/login", url.Values{"user": {"oper1"}, "password": {"wrong"}}); st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	if st, _ := post(t, c, e.url+"/login", url.Values{"user": {"oper1"}, "password": {testPassword}}); st != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d, want 429", st)
	}
	e.clock.Set(scenarioNow.Add(11 * time.Minute))
	httpLogin(t, c, e.url, "oper1")
}

// TestSessionSurvivesRestart: a login kept in NATS outlives the screen's
// process.
func TestSessionSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	c := client(t)
	httpLogin(t, c, e.url, "viewer1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.srv.Stop(ctx)
	cfg := e.srv.cfg
	srv, err := New(Options{Config: cfg, Rooms: testRooms(), NC: e.nc, Alerts: e.srv.alerts, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	// The cookie was set for the old address's host; the new server
	// listens on another port of the same host.
	u, _ := url.Parse(srv.URL())
	old, _ := url.Parse(e.url)
	c.Jar.SetCookies(u, c.Jar.Cookies(old))
	st, body := get(t, c, srv.URL()+"/api/overview")
	if st != http.StatusOK || !strings.Contains(body, "room1") {
		t.Fatalf("after restart: %d %.200s", st, body)
	}
}

// TestHTTPSAndLanguage: under HTTPS the session cookie is Secure and
// HttpOnly and HSTS is sent; ?lang=en switches to English and sticks.
func TestHTTPSAndLanguage(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	cfg := e.srv.cfg
	cfg.Listen, cfg.TLSCert, cfg.TLSKey = "127.0.0.1:0", certFile, keyFile
	srv, err := New(Options{Config: cfg, Rooms: testRooms(), NC: e.nc, Alerts: e.srv.alerts, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	c := client(t)
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/login", strings.NewReader(url.Values{"user": {"oper1"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", sess)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS under HTTPS")
	}
	st, body := get(t, c, srv.URL()+recordPath+"?lang=en")
	if st != http.StatusOK || !strings.Contains(body, "Mains-loss episodes") || !strings.Contains(body, "Abnormal") {
		t.Fatalf("English record: %d %.300s", st, body)
	}
	if _, body := get(t, c, srv.URL()+"/"); !strings.Contains(body, "Overview") {
		t.Error("the language did not stick")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "patrol"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestHistoryAndExport: a signed day shows in the history, its CSV and
// its JSON.
func TestHistoryAndExport(t *testing.T) {
	e := newEnv(t)
	so := &Signoff{Site: "main", Room: "room1", Date: scenarioDay.Format(time.DateOnly), By: "oper1", ByName: "张三", At: scenarioNow}
	if err := e.srv.store.Sign(context.Background(), so); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	httpLogin(t, c, e.url, "viewer1")
	q := "?room=main/room1&from=2026-11-20&to=2026-11-25"
	st, body := get(t, c, e.url+"/export.csv"+q)
	if st != http.StatusOK || !strings.HasPrefix(body, "\ufeff日期") || !strings.Contains(body, "2026-11-25,main,room1,一号机房") || !strings.Contains(body, "张三") || !strings.Contains(body, "供电/市电中断") {
		t.Fatalf("csv: %d\n%s", st, body)
	}
	st, body = get(t, c, e.url+"/api/history"+q)
	if st != http.StatusOK || !strings.Contains(body, `"signed_by": "张三"`) || !strings.Contains(body, `"rev": 1`) {
		t.Fatalf("json: %d\n%s", st, body)
	}
	if st, body = get(t, c, e.url+"/history"+q); st != http.StatusOK || !strings.Contains(body, "张三") {
		t.Fatalf("page: %d", st)
	}
}
