package main

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
)

// TestHeartbeat: every site's heartbeat arrives on roomwatch.heartbeat.<site>
// with its devices, those that answered and the alarms firing, which follow
// a mains cut.
func TestHeartbeat(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice+"\n- {name: th1, profile: modbus-th, url: sim}")
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(cfg, path, slog.New(slog.DiscardHandler))
	a.heartbeatEvery = 100 * time.Millisecond
	if err := a.Start(); err != nil {
		a.Stop()
		t.Fatal(err)
	}
	defer a.Stop()
	nc, err := connectRole(a.cfg.NATS, a.srv, roleNotifier, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(alerts.HeartbeatSubject("test"))
	if err != nil {
		t.Fatal(err)
	}
	// next waits for a heartbeat satisfying ok.
	next := func(what string, ok func(alerts.Heartbeat) bool) alerts.Heartbeat {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			m, err := sub.NextMsg(time.Until(deadline))
			if err != nil {
				t.Fatalf("no heartbeat with %s: %v", what, err)
			}
			var h alerts.Heartbeat
			if err := json.Unmarshal(m.Data, &h); err != nil {
				t.Fatal(err)
			}
			if h.Schema != alerts.HeartbeatSchema || h.Site != "test" || h.At.IsZero() || h.Devices != 2 {
				t.Fatalf("heartbeat %+v", h)
			}
			if ok(h) {
				return h
			}
		}
	}
	next("both devices reachable, nothing firing", func(h alerts.Heartbeat) bool { return h.Reachable == 2 && h.Firing == 0 })
	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	next("the mains alarm firing", func(h alerts.Heartbeat) bool { return h.Firing >= 1 })
	if err := a.sims.Store.Apply("mains-restore"); err != nil {
		t.Fatal(err)
	}
	next("the mains alarm resolved", func(h alerts.Heartbeat) bool { return h.Firing == 0 })
}
