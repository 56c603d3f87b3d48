package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	rwc "github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

const upsDevice = `- {name: ups1, title: UPS1, profile: rfc1628-ups, url: sim}`

// startTestApp starts the monitor of config path; sims, when not nil,
// are the simulators to poll (so a test can set a scenario before the
// first poll).
func startTestApp(t *testing.T, path string, sims *simulators, simURLs map[string]string) *app {
	t.Helper()
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(cfg, path, slog.New(slog.DiscardHandler))
	a.sims, a.simURLs = sims, simURLs
	if err := a.Start(); err != nil {
		a.Stop()
		t.Fatal(err)
	}
	return a
}

// newSims starts the simulators of the configuration at path.
func newSims(t *testing.T, path string) (*simulators, map[string]string) {
	t.Helper()
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	s, urls, err := startSimulators(cfg.simDevices(), "127.0.0.1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, urls
}

// alarmLog reads every message of the site's alarm stream so far, as
// the patrol screen may.
func alarmLog(t *testing.T, a *app) []*alerts.Alarm {
	t.Helper()
	nc, err := connectRole(a.cfg.NATS, a.srv, roleScreen, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := alerts.DefaultConfig()
	stream, err := js.Stream(ctx, cfg.StreamConfig("test").Name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*alerts.Alarm
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("alarm stream message %d: %v", seq, err)
		}
		a, err := alerts.Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func count(alarms []*alerts.Alarm, rule string, state alerts.State) int {
	n := 0
	for _, a := range alarms {
		if a.Rule == rule && a.State == state {
			n++
		}
	}
	return n
}

// firstOnBattery returns the time of the first UPS line of spool
// message m (line protocol, timestamps in the precision its format
// names, which it returns too) that shows on_battery.
func firstOnBattery(t *testing.T, m *nats.Msg) (time.Time, time.Duration, bool) {
	t.Helper()
	unit, ok := influx.LineUnit(m.Header.Get(influx.HeaderFormat))
	if !ok {
		t.Fatalf("spool message of format %q", m.Header.Get(influx.HeaderFormat))
	}
	for _, l := range strings.Split(strings.TrimSpace(string(m.Data)), "\n") {
		if !strings.HasPrefix(l, "roomwatch_ups,") || !strings.Contains(l, "on_battery=true") {
			continue
		}
		ts, err := strconv.ParseInt(l[strings.LastIndexByte(l, ' ')+1:], 10, 64)
		if err != nil {
			t.Fatalf("spool line without a timestamp: %s", l)
		}
		return time.Unix(0, ts*int64(unit)), unit, true
	}
	return time.Time{}, 0, false
}

// TestMainsLostAlarmWithinOnePoll cuts the mains on the simulated UPS and
// expects `ups-on-battery` on its subject from the very poll that shows
// it (the alarm's start is that poll's time, and it arrives before the
// device's next poll), then the resolution when the mains come back.
func TestMainsLostAlarmWithinOnePoll(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice)
	// This test listens on the alarm subjects, which no role may (see
	// rolePermissions): it runs the embedded server without keys.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "nats: {", "nats: {auth: none, ", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()

	nc, err := nats.Connect(a.srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Core subscriptions see the spool's sample messages and the alarms
	// in the order the server received them.
	events, err := nc.SubscribeSync("roomwatch.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	// The alarm and the samples travel different paths (alarm stream,
	// spool), so either may arrive first: read until both are seen.
	var onBatteryAt time.Time
	var precision time.Duration // of the spooled samples' timestamps
	var fired *alerts.Alarm
	deadline := time.Now().Add(15 * time.Second)
	for fired == nil || onBatteryAt.IsZero() {
		m, err := events.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("alarm %v, first on-battery sample at %v: %v", fired != nil, onBatteryAt, err)
		}
		switch {
		case strings.HasPrefix(m.Subject, "roomwatch.samples."):
			if at, unit, ok := firstOnBattery(t, m); ok && onBatteryAt.IsZero() {
				onBatteryAt, precision = at, unit
			}
		case m.Subject == "roomwatch.alarm.test.dc1.critical":
			al, err := alerts.Unmarshal(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if al.Rule == "ups-on-battery" && al.State == alerts.Firing {
				fired = al
			}
		}
	}
	// Fired by the very poll that first showed the mains lost (the
	// spool holds its time in the writer's precision).
	if !fired.StartedAt.Truncate(precision).Equal(onBatteryAt) {
		t.Errorf("alarm started at %v, want the first poll that showed on_battery, %v", fired.StartedAt, onBatteryAt)
	}
	if fired.Text["zh"] == "" || fired.Text["en"] == "" || fired.Device != "ups1" || fired.Severity != alerts.Critical {
		t.Errorf("alarm = %+v, want zh and en text, device ups1, critical", fired)
	}
	t.Logf("zh: %s | en: %s", fired.Text["zh"], fired.Text["en"])
	if fired.RoomTitle.Zh != "一号机房" || fired.DeviceTitle.Zh != "UPS1" || fired.Values["runtime_min"].Title.Zh == "" {
		t.Errorf("alarm titles: site %v room %v device %v values %v", fired.SiteTitle, fired.RoomTitle, fired.DeviceTitle, fired.Values)
	}
	// `roomwatch alarms` names the site, room and device by their titles,
	// those of an alarm stored without them too (from the configuration).
	older := fired.Clone()
	older.SiteTitle, older.RoomTitle, older.DeviceTitle = rwc.Title{}, rwc.Title{}, rwc.Title{}
	for n, r := range older.Values {
		r.Title = rwc.Title{}
		older.Values[n] = r
	}
	withTitles([]*alerts.Alarm{older}, a.cfg)
	var out strings.Builder
	if err := alerts.PrintTable(&out, []*alerts.Alarm{fired, older}, "zh"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"测试院区", "一号机房", "UPS1", "电池后备时间="} {
		if strings.Count(out.String(), want) < 2 {
			t.Errorf("roomwatch alarms lacks %q twice:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), " dc1 ") || strings.Contains(out.String(), "runtime_min") {
		t.Errorf("roomwatch alarms shows codes:\n%s", out.String())
	}

	if err := a.sims.Store.Apply("mains-restore"); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := events.NextMsg(time.Until(deadline.Add(10 * time.Second)))
		if err != nil {
			t.Fatalf("no resolution: %v", err)
		}
		if m.Subject != "roomwatch.alarm.test.dc1.critical" {
			continue
		}
		al, err := alerts.Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if al.Rule == "ups-on-battery" && al.State == alerts.Resolved {
			if al.ID != fired.ID || al.EndedAt == nil {
				t.Errorf("resolution %+v does not close the fired alarm %s", al, fired.ID)
			}
			return
		}
	}
}

// TestRestartWhileFiring restarts the monitor while `ups-on-battery`
// fires: the restart announces nothing again, and the resolution still
// comes once. A second restart after the mains returned while the
// monitor was down resolves the alarm on the first poll.
func TestRestartWhileFiring(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice)

	// Run 1: the mains fail, the alarm fires.
	sims, urls := newSims(t, path)
	defer sims.Stop()
	if err := sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	a := startTestApp(t, path, sims, urls)
	testutil.Eventually(t, 15*time.Second, "ups-on-battery firing", func() (bool, string) {
		return count(alarmLog(t, a), "ups-on-battery", alerts.Firing) == 1, ""
	})
	a.Stop()

	// Run 2: still on battery. Several polls, nothing new.
	b := startTestApp(t, path, sims, urls)
	polls := b.polled.Load
	start := polls()
	testutil.Eventually(t, 15*time.Second, "five polls after the restart", func() (bool, string) { return polls() >= start+5, "" })
	if got := alarmLog(t, b); count(got, "ups-on-battery", alerts.Firing) != 1 || len(got) != 1 {
		for _, x := range got {
			t.Logf("%s %s %s %v", x.Rule, x.State, x.Device, x.Text)
		}
		t.Fatalf("after restart the alarm log has %d messages (%d firing), want just the one firing", len(got), count(got, "ups-on-battery", alerts.Firing))
	}
	b.Stop()

	// The mains come back while the monitor is down.
	if err := sims.Store.Apply("mains-restore"); err != nil {
		t.Fatal(err)
	}
	c := startTestApp(t, path, sims, urls)
	testutil.Eventually(t, 15*time.Second, "the resolution after the second restart", func() (bool, string) {
		return count(alarmLog(t, c), "ups-on-battery", alerts.Resolved) == 1, ""
	})
	start = c.polled.Load()
	testutil.Eventually(t, 15*time.Second, "five more polls", func() (bool, string) { return c.polled.Load() >= start+5, "" })
	got := alarmLog(t, c)
	c.Stop()
	if count(got, "ups-on-battery", alerts.Firing) != 1 || count(got, "ups-on-battery", alerts.Resolved) != 1 {
		t.Fatalf("alarm log = %d firing, %d resolved; want 1 and 1", count(got, "ups-on-battery", alerts.Firing), count(got, "ups-on-battery", alerts.Resolved))
	}
}
