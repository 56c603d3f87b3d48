package snmp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// responder answers every GET on its socket with upsBatteryStatus = 2,
// mangled as mode says: "ok", "id0" (request id 0, which gosnmp itself lets
// through), "otherid" (a request id never sent), or "othersocket" (the
// right answer, sent from another port than the one polled).
func responder(t *testing.T, mode string) string {
	t.Helper()
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return scripted(t, func(_ int, req *gosnmp.SnmpPacket, from net.Addr) [][]byte {
		out := reply(t, req, 2, func(resp *gosnmp.SnmpPacket) {
			switch mode {
			case "id0":
				resp.RequestID = 0
			case "otherid":
				resp.RequestID = req.RequestID + 1000
			}
		})
		if mode == "othersocket" {
			_, _ = other.WriteTo(out, from)
			return nil
		}
		return [][]byte{out}
	})
}

// TestResponseMatching: an answer counts only when it comes from the
// polled address and carries the request's id.
func TestResponseMatching(t *testing.T) {
	for _, tc := range []struct {
		mode string
		ok   bool
		err  string
	}{
		{"ok", true, ""},
		{"id0", false, "request id does not match"},
		{"otherid", false, "timeout"},
		{"othersocket", false, "timeout"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := testConfig("2c")
			cfg.Target.Host = responder(t, tc.mode)
			cfg.Timeout, cfg.Retries = 300*time.Millisecond, 1
			c, err := newClient(cfg.Target, cfg.Timeout, cfg.Retries)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			pkt, err := c.Get(ctx, []string{"1.3.6.1.2.1.33.1.2.1.0"})
			if tc.ok {
				if err != nil || len(pkt.Variables) != 1 || pkt.Variables[0].Value != 2 {
					t.Fatalf("good answer: %v %+v", err, pkt)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted a %s answer: %+v", tc.mode, pkt.Variables)
			}
			if !strings.Contains(err.Error(), tc.err) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// TestCancelEndsRead: cancelling a poll ends a pending read at once, not
// at the per-request timeout.
func TestCancelEndsRead(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	cfg := testConfig("2c")
	cfg.Target.Host = hole.LocalAddr().String()
	cfg.Timeout, cfg.Retries = time.Hour, 0
	pl, err := New(cfg, builtin(t, "apc-env"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := pl.Poll(ctx)
		done <- err
	}()
	// Wait until the request is out, then cancel.
	buf := make([]byte, 1500)
	if _, _, err := hole.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled poll succeeded")
	}
}
