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
	"slices"
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
	"github.com/roomwatch/roomwatch/internal/testutil"
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

// cut is one mains cut of the simulated UPS: a poll that started from
// just before the cut to the restore can show it.
type cut struct{ from, to time.Time }

// upsPoll is one spooled poll of the UPS.
type upsPoll struct {
	at        time.Time
	onBattery bool
}

// TestNoAlarmLostAtKill9 runs the monitor as a child process and kills it
// with SIGKILL at random moments during 200 cut/restore cycles of the
// simulated UPS's mains, restarting it each time. Every episode that the
// polls observed is in the alarm stream as exactly one firing and one
// resolution; none has two firings, none stays unresolved. An observed
// episode is a run of polls that saw the UPS on battery between two that
// saw it on mains (a dead monitor may miss the mains' return between two
// cuts: for it, and for this test, that is one episode); what a poll saw
// is in its spooled sample or in the alarm it decided.
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
	var cuts []cut
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
	phase := func() time.Duration {
		return 100*time.Millisecond + time.Duration(rng.Int64N(int64(150*time.Millisecond)))
	}
	for range cycles {
		c := cut{from: time.Now().Add(-timeout - 10*time.Millisecond)}
		if err := sims.Store.Apply("mains-fail"); err != nil {
			t.Fatal(err)
		}
		pause(phase(), 0.15)
		if err := sims.Store.Apply("mains-restore"); err != nil {
			t.Fatal(err)
		}
		c.to = time.Now()
		cuts = append(cuts, c)
		pause(phase(), 0.15)
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
	inCut := func(at time.Time) bool {
		for _, c := range cuts {
			if !at.Before(c.from) && !at.After(c.to) {
				return true
			}
		}
		return false
	}
	// What the polls saw: the spooled samples, and the alarms (the poll
	// that fired one saw the UPS on battery, the one that resolved it saw
	// the mains; their samples may have died with the monitor).
	seen := slices.Clone(samples)
	for _, a := range alarms {
		switch a.State {
		case alerts.Firing:
			seen = append(seen, upsPoll{at: a.StartedAt, onBattery: true})
		case alerts.Resolved:
			seen = append(seen, upsPoll{at: *a.EndedAt})
		}
	}
	slices.SortStableFunc(seen, func(a, b upsPoll) int { return a.at.Compare(b.at) })
	for _, sm := range samples {
		if sm.onBattery && !inCut(sm.at) {
			t.Errorf("a sample at %s shows the UPS on battery outside every mains cut", sm.at.Format("15:04:05.000"))
		}
	}
	// Episodes: each stretch between two polls that saw the mains, with
	// a poll that saw the UPS on battery.
	type observed struct {
		from, to time.Time // the polls on mains around it (zero: none)
		polls    int
		firing   []*alerts.Alarm
	}
	var eps []*observed
	var prev time.Time
	var cur *observed
	for _, sm := range seen {
		switch {
		case sm.onBattery:
			if cur == nil {
				cur = &observed{from: prev}
				eps = append(eps, cur)
			}
			cur.polls++
		default:
			if cur != nil {
				cur.to = sm.at
				cur = nil
			}
			prev = sm.at
		}
	}
	within := func(ep *observed, at time.Time) bool {
		return at.After(ep.from) && (ep.to.IsZero() || at.Before(ep.to))
	}
	resolved := map[string]int{}
	firings := 0
	for _, a := range alarms {
		switch a.State {
		case alerts.Firing:
			firings++
			for _, ep := range eps {
				if within(ep, a.StartedAt) {
					ep.firing = append(ep.firing, a)
				}
			}
		case alerts.Resolved:
			resolved[a.ID]++
		}
	}
	for i, ep := range eps {
		switch len(ep.firing) {
		case 1:
			if n := resolved[ep.firing[0].ID]; n != 1 {
				t.Errorf("episode %d: alarm %s resolved %d times, want once", i, ep.firing[0].ID, n)
			}
		case 0:
			t.Errorf("episode %d (after %s): %d polls saw it, no alarm", i, ep.from.Format("15:04:05.000"), ep.polls)
		default:
			t.Errorf("episode %d (after %s): %d firing messages", i, ep.from.Format("15:04:05.000"), len(ep.firing))
		}
	}
	// Alarms of episodes whose samples were lost with the monitor: each
	// resolved once too.
	for _, a := range alarms {
		if a.State == alerts.Firing && resolved[a.ID] != 1 {
			t.Errorf("alarm %s (started %s) resolved %d times, want once", a.ID, a.StartedAt.Format("15:04:05.000"), resolved[a.ID])
		}
		if a.State == alerts.Resolved {
			fired := false
			for _, f := range alarms {
				fired = fired || (f.State == alerts.Firing && f.ID == a.ID)
			}
			if !fired {
				t.Errorf("resolution of %s, which never fired", a.ID)
			}
		}
	}
	if len(eps) < cycles/2 {
		t.Errorf("only %d episodes observed in %d cycles: the cycles are too short for the polls", len(eps), cycles)
	}
	t.Logf("%d cycles, %d kills; %d episodes observed by the polls, %d alarms fired; %d alarm messages",
		cycles, kills, len(eps), firings, len(alarms))
}

// waitMonitorPolls waits until the child monitor finished n more polls.
func waitMonitorPolls(t *testing.T, m *monitor, n float64) {
	t.Helper()
	start := -1.0
	testutil.Eventually(t, 20*time.Second, "polls of the monitor", func() (bool, string) {
		got, ok := polls(m)
		if !ok {
			return false, ""
		}
		if start < 0 {
			start = got
		}
		return got >= start+n, ""
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
// ups-on-battery alarm messages and the spooled UPS samples by time.
func readStore(t *testing.T, storeDir string) ([]*alerts.Alarm, []upsPoll) {
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
	each(t, ctx, js, alerts.DefaultConfig().StreamConfig("test").Name, func(m *jetstream.RawStreamMsg) {
		a, err := alerts.Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if a.Rule == "ups-on-battery" {
			alarms = append(alarms, a)
		}
	})
	var samples []upsPoll
	each(t, ctx, js, influx.DefaultStream, func(m *jetstream.RawStreamMsg) {
		unit, ok := influx.LineUnit(m.Header.Get(influx.HeaderFormat))
		if !ok {
			t.Fatalf("spool message of format %q", m.Header.Get(influx.HeaderFormat))
		}
		for _, l := range strings.Split(strings.TrimSpace(string(m.Data)), "\n") {
			if !strings.HasPrefix(l, "roomwatch_ups,") || !strings.Contains(l, "on_battery=") {
				continue
			}
			ts, err := strconv.ParseInt(l[strings.LastIndexByte(l, ' ')+1:], 10, 64)
			if err != nil {
				t.Fatalf("spool line without a timestamp: %s", l)
			}
			samples = append(samples, upsPoll{at: time.Unix(0, ts*int64(unit)), onBattery: strings.Contains(l, "on_battery=true")})
		}
	})
	slices.SortFunc(samples, func(a, b upsPoll) int { return a.at.Compare(b.at) })
	return alarms, samples
}

// each calls f with every message of stream, in order.
func each(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, f func(*jetstream.RawStreamMsg)) {
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
		f(m)
	}
}
