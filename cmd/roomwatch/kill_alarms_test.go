package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// onBatteryNoFlap is ups-on-battery without flap protection, so every
// mains cut is an episode of its own (the default holds a flickering
// mains firing).
const onBatteryNoFlap = `rules:
  - name: ups-on-battery
    severity: critical
    match: {class: ups}
    condition: on_battery
    message:
      zh: "{{.Room}} {{.Device}} 市电中断"
      en: "{{.Room}} {{.Device}} mains lost"
`

// episode is one mains cut of the simulated UPS: a poll that started
// from just before the cut to the restore can show it.
type episode struct {
	from, to time.Time
	observed int // spooled samples that show it
	firing   []*alerts.Alarm
}

// TestNoAlarmLostAtKill9 runs the monitor as a child process and kills it
// with SIGKILL at random moments during 200 cut/restore cycles of the
// simulated UPS's mains, restarting it each time. Every episode that a
// poll observed (a sample in the spool shows the UPS on battery) is in the
// alarm stream as exactly one firing and one resolution; no episode has
// two firings, none stays unresolved.
func TestNoAlarmLostAtKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("200 mains cycles with a monitor killed and restarted")
	}
	bin := buildBinary(t)
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// The simulator lives in the test, so the mains stay as they are
	// while the monitor is dead.
	sims, urls, err := startSimulators([]simDevice{{ID: "ups1", Profile: set["rfc1628-ups"]}}, "127.0.0.1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sims.Stop()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte(onBatteryNoFlap), 0o600); err != nil {
		t.Fatal(err)
	}
	// InfluxDB is absent: the spool keeps every sample, the record of
	// what the polls observed.
	const interval, timeout = 100 * time.Millisecond, 80 * time.Millisecond
	config := writeConfig(t, dir, "http://127.0.0.1:9",
		fmt.Sprintf(`- {name: ups1, profile: rfc1628-ups, url: %q, interval: %v, timeout: %v}`, urls["ups1"], interval, timeout),
		fmt.Sprintf("rule_files: [%q]", rulesFile))
	logFile := filepath.Join(dir, "monitor.log")

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	m := startMonitor(t, bin, config, logFile)
	waitMonitorPolls(t, m, 3)
	const cycles = 200
	var eps []*episode
	kills := 0
	// pause waits d, killing the monitor at a random moment of it with
	// probability p and restarting it at once.
	pause := func(d time.Duration, p float64) {
		if rng.Float64() >= p {
			time.Sleep(d)
			return
		}
		at := time.Duration(rng.Int64N(int64(d)))
		time.Sleep(at)
		if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = m.wait()
		kills++
		m = startMonitor(t, bin, config, logFile)
		if rest := d - at - time.Since(m.started); rest > 0 {
			time.Sleep(rest)
		}
	}
	phase := func() time.Duration { return 120*time.Millisecond + time.Duration(rng.Int64N(int64(200*time.Millisecond))) }
	for range cycles {
		ep := &episode{from: time.Now().Add(-timeout - 10*time.Millisecond)}
		if err := sims.Store.Apply("mains-fail"); err != nil {
			t.Fatal(err)
		}
		pause(phase(), 0.25)
		if err := sims.Store.Apply("mains-restore"); err != nil {
			t.Fatal(err)
		}
		ep.to = time.Now()
		eps = append(eps, ep)
		pause(phase(), 0.25)
	}
	// Mains restored: a few polls resolve what a kill left firing, then
	// a clean stop.
	waitMonitorPolls(t, m, 5)
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := m.wait(); err != nil {
		t.Fatalf("monitor did not stop cleanly: %v", err)
	}

	alarms, samples := readStore(t, filepath.Join(dir, "jetstream"))
	find := func(at time.Time) *episode {
		for _, ep := range eps {
			if !at.Before(ep.from) && !at.After(ep.to) {
				return ep
			}
		}
		return nil
	}
	for _, at := range samples {
		if ep := find(at); ep != nil {
			ep.observed++
		} else {
			t.Errorf("a sample at %s shows the UPS on battery outside every mains cut", at.Format("15:04:05.000"))
		}
	}
	resolved := map[string]int{}
	for _, a := range alarms {
		switch a.State {
		case alerts.Firing:
			if ep := find(a.StartedAt); ep != nil {
				ep.firing = append(ep.firing, a)
			} else {
				t.Errorf("alarm %s fired outside every mains cut", a.ID)
			}
		case alerts.Resolved:
			resolved[a.ID]++
		}
	}
	observed, alarmed := 0, 0
	for i, ep := range eps {
		if ep.observed > 0 {
			observed++
		}
		if len(ep.firing) > 0 {
			alarmed++
		}
		switch {
		case ep.observed > 0 && len(ep.firing) == 0:
			t.Errorf("episode %d (%s–%s): %d polls saw it, no alarm", i, ep.from.Format("15:04:05.000"), ep.to.Format("15:04:05.000"), ep.observed)
		case len(ep.firing) > 1:
			t.Errorf("episode %d: %d firing messages", i, len(ep.firing))
		}
		for _, f := range ep.firing {
			if n := resolved[f.ID]; n != 1 {
				t.Errorf("episode %d: alarm %s resolved %d times, want once", i, f.ID, n)
			}
			delete(resolved, f.ID)
		}
	}
	for id, n := range resolved {
		t.Errorf("%d resolutions of %s, which never fired", n, id)
	}
	if observed < cycles/2 {
		t.Errorf("only %d of %d episodes observed: the cycles are too short for the polls", observed, cycles)
	}
	t.Logf("%d cycles, %d kills; %d episodes observed by a poll, %d alarmed; %d alarm messages",
		cycles, kills, observed, alarmed, len(alarms))
}

// waitMonitorPolls waits until the child monitor finished n more polls.
func waitMonitorPolls(t *testing.T, m *monitor, n float64) {
	t.Helper()
	start := -1.0
	eventually(t, 20*time.Second, "polls of the monitor", func() bool {
		got, ok := polls(m)
		if !ok {
			return false
		}
		if start < 0 {
			start = got
		}
		return got >= start+n
	})
}

// polls sums roomwatch_polls_total over its labels.
func polls(m *monitor) (float64, bool) {
	resp, err := http.Get("http://" + m.addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false
	}
	sum, seen := 0.0, false
	for _, l := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(l, "roomwatch_polls_total{") {
			continue
		}
		f, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err == nil {
			sum, seen = sum+f, true
		}
	}
	return sum, seen
}

// readStore opens the stopped monitor's JetStream store and returns the
// ups-on-battery alarm messages and the times of the spooled UPS samples
// that show the UPS on battery.
func readStore(t *testing.T, storeDir string) ([]*alerts.Alarm, []time.Time) {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: storeDir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server on the monitor's store not ready")
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var alarms []*alerts.Alarm
	each(t, ctx, js, alerts.DefaultConfig().StreamConfig("test").Name, func(data []byte) {
		a, err := alerts.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if a.Rule == "ups-on-battery" {
			alarms = append(alarms, a)
		}
	})
	var samples []time.Time
	each(t, ctx, js, influx.DefaultStream, func(data []byte) {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !strings.HasPrefix(l, "roomwatch_ups,") || !strings.Contains(l, "on_battery=true") {
				continue
			}
			ns, err := strconv.ParseInt(l[strings.LastIndexByte(l, ' ')+1:], 10, 64)
			if err != nil {
				t.Fatalf("spool line without a timestamp: %s", l)
			}
			samples = append(samples, time.Unix(0, ns))
		}
	})
	return alarms, samples
}

// each calls f with every message of stream, in order.
func each(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, f func([]byte)) {
	t.Helper()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		f(m.Data)
	}
}
