package modemsim

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func startSim(t *testing.T) *Sim {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		testutil.PeerMissing(t, "socat is needed for the simulated modem: %v", err)
	}
	s, err := Start(filepath.Join(t.TempDir(), "modem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client is a bare terminal on the simulator's port.
type client struct {
	f *os.File
	r *bufio.Reader
}

func dial(t *testing.T, s *Sim) *client {
	t.Helper()
	f, err := os.OpenFile(s.Path(), os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &client{f: f, r: bufio.NewReader(f)}
}

// line returns the next non-empty line.
func (c *client) line(t *testing.T) string {
	t.Helper()
	_ = c.f.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
}

// do sends a command and returns the non-empty lines up to the final
// result (or the prompt).
func (c *client) do(t *testing.T, cmd string) []string {
	t.Helper()
	if _, err := c.f.WriteString(cmd); err != nil {
		t.Fatal(err)
	}
	_ = c.f.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lines []string
	for {
		if b, _ := c.r.Peek(2); string(b) == "> " {
			_, _ = c.r.Discard(2)
			return append(lines, ">")
		}
		l, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v after %q", cmd, err, lines)
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		lines = append(lines, l)
		if l == "OK" || l == "ERROR" || strings.HasPrefix(l, "+CMS ERROR") || strings.HasPrefix(l, "+CME ERROR") {
			return lines
		}
	}
}

func TestATSession(t *testing.T) {
	s := startSim(t)
	c := dial(t, s)
	for _, step := range []struct{ cmd, want string }{
		{"ATE0\r", "ATE0|OK"}, // echoed until it is off
		{"AT+CMEE=1\r", "OK"},
		{"AT+CPIN?\r", "+CPIN: READY|OK"},
		{"AT+CMGF=0\r", "OK"},
		{"AT+CNMI=2,1,0,1,0\r", "OK"},
		{"AT+CSQ\r", "+CSQ: 23,99|OK"},
		{"AT+CMGS=18\r", ">"},
		// To 13800138000 (national), "hello" in GSM 7-bit, status report asked.
		{"0021000B813108108300F0000005E8329BFD06\x1a", "+CMGS: 1|OK"},
	} {
		if got := strings.Join(c.do(t, step.cmd), "|"); got != step.want {
			t.Errorf("%q: %q, want %q", step.cmd, got, step.want)
		}
	}
	// Then the delivery report the PDU asked for.
	head, pdu := c.line(t), c.line(t)
	p, err := pdumode.UnmarshalHexString(pdu)
	if err != nil || head != fmt.Sprintf("+CDS: %d", len(p.TPDU)) {
		t.Fatalf("report %q %q: %v", head, pdu, err)
	}
	r, err := sms.Unmarshal(p.TPDU, sms.AsMT)
	if err != nil || r.SmsType() != tpdu.SmsStatusReport || r.MR != 1 || r.RA.Number() != "13800138000" || r.ST != 0 {
		t.Fatalf("report %+v: %v", r, err)
	}
	for _, step := range []struct{ cmd, want string }{
		{"AT+CMGR=1\r", "+CMS ERROR: 321"},
		{"AT+BOGUS\r", "ERROR"},
	} {
		if got := strings.Join(c.do(t, step.cmd), "|"); got != step.want {
			t.Errorf("%q: %q, want %q", step.cmd, got, step.want)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].To != "13800138000" || msgs[0].Text != "hello" || msgs[0].Encoding != "GSM 7-bit" || !msgs[0].Parts[0].SRR {
		t.Fatalf("messages %+v", msgs)
	}
	if got := msgs[0].String(); got != "短信 → 13800138000 (GSM 7-bit): hello" {
		t.Errorf("printed as %q", got)
	}
}

func TestHTTPControl(t *testing.T) {
	s := startSim(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	post := func(path string, q url.Values) int {
		t.Helper()
		res, err := http.PostForm(srv.URL+path, q)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	if code := post("/modem/inject", url.Values{"from": {"+8613800138000"}, "text": {"ACK 1234"}}); code != 200 || s.Stored() != 1 {
		t.Errorf("inject: %d, %d stored", code, s.Stored())
	}
	if code := post("/modem/inject", url.Values{"from": {"+86"}}); code != 400 {
		t.Errorf("inject without text: %d", code)
	}
	if code := post("/modem/fail", url.Values{"code": {"42"}}); code != 200 {
		t.Errorf("fail: %d", code)
	}
	if code := post("/modem/unplug", nil); code != 200 || s.Plugged() {
		t.Errorf("unplug: %d, plugged %v", code, s.Plugged())
	}
	if _, err := os.Lstat(s.Path()); err == nil {
		t.Error("the port is still there when unplugged")
	}
	if code := post("/modem/replug", nil); code != 200 || !s.Plugged() {
		t.Errorf("replug: %d, plugged %v", code, s.Plugged())
	}
	c := dial(t, s)
	c.do(t, "ATE0\r")
	if got := strings.Join(c.do(t, "AT+CMGL=4\r"), "|"); !strings.HasPrefix(got, "+CMGL: 1,0,,") {
		t.Errorf("the SIM lost its message across the replug: %q", got)
	}
}
