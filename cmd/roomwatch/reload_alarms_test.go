package main

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// waitPolls waits until the monitor finished n more polls.
func waitPolls(t *testing.T, a *app, n int64) {
	t.Helper()
	start := a.polled.Load()
	testutil.Eventually(t, 20*time.Second, "polls", func() (bool, string) { return a.polled.Load() >= start+n, "" })
}

// waitTicks waits until the engine ticked n more times.
func waitTicks(t *testing.T, a *app, n int64) {
	t.Helper()
	start := a.ticks.Load()
	testutil.Eventually(t, 20*time.Second, "engine ticks", func() (bool, string) { return a.ticks.Load() >= start+n, "" })
}

func describe(alarms []*alerts.Alarm) string {
	var b strings.Builder
	for _, x := range alarms {
		b.WriteString("\n  " + x.Rule + " " + string(x.State) + " " + x.Device + " " + x.Text["zh"])
	}
	return b.String()
}

// TestReloadRaisesNothing reloads a healthy room's unchanged
// configuration 20 times during steady polling (what `systemctl reload`
// does at every configuration change): the alarm stream gets nothing,
// device-unreachable above all. The devices poll every 2 s, so the
// engine ticks (every second) between a reload and the next poll, as it
// does in production with 10 s polls.
func TestReloadRaisesNothing(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), `
		- {name: ups1, title: UPS1, profile: rfc1628-ups, url: sim, interval: 2s, timeout: 1s}
		- {name: th1, profile: modbus-th, url: sim, interval: 2s, timeout: 1s}
		- {name: di1, profile: modbus-di, url: sim, interval: 2s, timeout: 1s}`)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	// Steady state: every device polled and ticks gone by, so whatever
	// the room raises at start is raised.
	waitPolls(t, a, 6)
	waitTicks(t, a, 2)
	before := alarmLog(t, a)

	polls := a.polled.Load()
	for i := range 20 {
		if err := a.Reload(); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		waitTicks(t, a, 1) // no-data is judged on the tick
	}
	if a.polled.Load() < polls+6 {
		t.Fatalf("only %d polls during the reloads", a.polled.Load()-polls)
	}
	waitPolls(t, a, 3)
	waitTicks(t, a, 2)
	after := alarmLog(t, a)
	if len(after) != len(before) {
		t.Fatalf("20 reloads added %d alarm messages:%s", len(after)-len(before), describe(after[len(before):]))
	}
}

// TestReloadChangedDeviceKeepsState cuts the mains, then reloads with the
// UPS's configuration changed (its poll interval and title) while
// ups-on-battery fires: nothing is announced again, the UPS is polled on
// its new interval, and the mains' return resolves the alarm once.
func TestReloadChangedDeviceKeepsState(t *testing.T) {
	inf := influxtest.Start(t)
	dir := t.TempDir()
	th1 := `- {name: th1, profile: modbus-th, url: sim}`
	path := writeConfig(t, dir, inf.URL(), upsDevice+"\n"+th1)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "ups-on-battery firing", func() (bool, string) {
		return count(alarmLog(t, a), "ups-on-battery", alerts.Firing) == 1, ""
	})
	waitPolls(t, a, 6)
	waitTicks(t, a, 1)
	before := alarmLog(t, a)

	writeConfig(t, dir, inf.URL(), `- {name: ups1, title: 一号UPS, profile: rfc1628-ups, url: sim, interval: 300ms}`+"\n"+th1)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	waitPolls(t, a, 10)
	waitTicks(t, a, 2)
	if after := alarmLog(t, a); len(after) != len(before) {
		t.Fatalf("reload of the changed, alarmed UPS added:%s", describe(after[len(before):]))
	}
	for _, j := range a.jobs() {
		if j.Config.Device.Name == "ups1" && j.Config.Interval != 300*time.Millisecond {
			t.Errorf("ups1 polled every %v after the reload, want 300ms", j.Config.Interval)
		}
	}

	if err := a.sims.Store.Apply("mains-restore"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "ups-on-battery resolved", func() (bool, string) {
		return count(alarmLog(t, a), "ups-on-battery", alerts.Resolved) == 1, ""
	})
	got := alarmLog(t, a)
	if count(got, "ups-on-battery", alerts.Firing) != 1 {
		t.Fatalf("alarm log:%s", describe(got))
	}
}
