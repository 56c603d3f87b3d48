package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

func T(v float64) []collectors.Value { return vals(num("temperature_c", v)) }

func TestForAndClear(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: hot
    severity: major
    match: {class: env}
    condition: temperature_c > 28
    for: 1m
`)
	runSteps(t, e, "hot", envDev, []step{
		{at: 0, vals: T(27), want: Inactive},
		{at: 10 * time.Second, vals: T(28.4), want: Pending},
		{at: 40 * time.Second, vals: T(29), want: Pending},
		{at: 60 * time.Second, vals: T(27.9), want: Inactive}, // dip resets `for`
		{at: 70 * time.Second, vals: T(28.4), want: Pending},
		{at: 100 * time.Second, vals: T(28.4), want: Pending},
		{at: 130 * time.Second, want: Firing}, // Tick: `for` elapsed since 70 s
		{at: 140 * time.Second, vals: T(28.5), want: Firing},
		{at: 150 * time.Second, vals: T(27), want: Inactive},
	})
	ts := rec.take()
	if len(ts) != 2 || ts[0].To != Firing || ts[1].From != Firing || ts[1].To != Inactive {
		t.Fatalf("transitions %+v, want fire and resolve", ts)
	}
	if !ts[0].Alert.FiredAt.Equal(t0.Add(130*time.Second)) || !ts[0].Alert.ActiveAt.Equal(t0.Add(70*time.Second)) {
		t.Errorf("fired at %v active at %v", ts[0].Alert.FiredAt, ts[0].Alert.ActiveAt)
	}
	if !ts[1].Alert.ResolvedAt.Equal(t0.Add(150 * time.Second)) {
		t.Errorf("resolved at %v", ts[1].Alert.ResolvedAt)
	}
}

func TestPendingReportedOnlyWithOption(t *testing.T) {
	const y = `
rules:
  - name: hot
    severity: major
    condition: temperature_c > 28
    for: 1m
`
	for _, tc := range []struct {
		opts []Option
		want int
	}{{nil, 0}, {[]Option{ReportPending()}, 2}} {
		e, rec := newTestEngine(t, y, tc.opts...)
		e.Eval(t0, set(envDev, t0, T(29)...))
		e.Eval(t0.Add(time.Second), set(envDev, t0, T(20)...))
		if got := len(rec.take()); got != tc.want {
			t.Errorf("opts %d: %d transitions, want %d", len(tc.opts), got, tc.want)
		}
	}
}

func TestHysteresisBand(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: hot
    severity: major
    band: {value: temperature_c, above: 28, clear: 27}
`)
	runSteps(t, e, "hot", envDev, []step{
		{at: 0, vals: T(27.5), want: Inactive},
		{at: 30 * time.Second, vals: T(28.4), want: Firing},
		{at: 60 * time.Second, vals: T(27.5), want: Firing}, // inside the band
		{at: 90 * time.Second, vals: T(27.0), want: Firing}, // clears *below* 27
		{at: 120 * time.Second, vals: T(26.9), want: Inactive},
		{at: 150 * time.Second, vals: T(27.9), want: Inactive},
		{at: 180 * time.Second, vals: T(28.1), want: Firing},
	})
}

func TestBandBelowAndRoomOverride(t *testing.T) {
	const y = `
rules:
  - name: cold
    severity: minor
    band: {value: temperature_c, below: 18, clear: 19}
`
	inv := testInventory()
	inv.Sites[0].Rooms[0].Overrides = map[string]Override{"cold": {Threshold: ptr(15.0)}}
	e, err := NewEngine(mustParse(t, y), inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, e, "cold", envDev, []step{
		{at: 0, vals: T(17), want: Inactive}, // room overrides 18 → 15
		{at: 10 * time.Second, vals: T(14.9), want: Firing},
		{at: 20 * time.Second, vals: T(15.5), want: Firing}, // band moved too: clear above 16
		{at: 30 * time.Second, vals: T(16.1), want: Inactive},
	})
}

func TestClearExpressionAndUnknown(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: low-runtime
    severity: critical
    condition: on_battery && runtime_min < 20
    clear: "!on_battery || runtime_min > 25"
`)
	ob := func(on bool, rt collectors.Value) []collectors.Value { return vals(boolv("on_battery", on), rt) }
	runSteps(t, e, "low-runtime", upsDev, []step{
		{at: 0, vals: ob(true, num("runtime_min", 30)), want: Inactive},
		{at: 10 * time.Second, vals: ob(true, faulty("runtime_min")), want: Inactive}, // unknown: no fire
		{at: 20 * time.Second, vals: ob(true, num("runtime_min", 15)), want: Firing},
		{at: 30 * time.Second, vals: ob(true, faulty("runtime_min")), want: Firing},  // unknown: no clear
		{at: 40 * time.Second, vals: vals(boolv("on_battery", true)), want: Firing},  // missing: no clear
		{at: 50 * time.Second, lost: true, want: Firing},                             // comms lost: no clear
		{at: 60 * time.Second, vals: ob(true, num("runtime_min", 22)), want: Firing}, // between: hold
		{at: 70 * time.Second, vals: ob(false, num("runtime_min", 22)), want: Inactive},
	})
	if n := len(rec.take()); n != 2 {
		t.Errorf("%d transitions, want 2", n)
	}
}

func TestRate(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: rising
    severity: major
    rate: {value: temperature_c, window: 5m, above: 1.0}
`)
	var steps []step
	temp := 22.0
	// 0..5 min: +0.2 °C per 30 s (0.4 °C/min): never fires.
	for i := 0; i <= 10; i++ {
		steps = append(steps, step{at: time.Duration(i) * 30 * time.Second, vals: T(temp), want: Inactive})
		temp += 0.2
	}
	// then +0.75 °C per 30 s (1.5 °C/min): the 5-minute slope reaches
	// 1 °C/min after 6 more samples (3 min).
	for i := 11; i <= 16; i++ {
		temp += 0.75
		want := Inactive
		if i >= 16 {
			want = Firing
		}
		steps = append(steps, step{at: time.Duration(i) * 30 * time.Second, vals: T(temp), want: want})
	}
	// flat again: the slope falls below 1 °C/min and it clears.
	for i := 17; i <= 30; i++ {
		want := Firing
		if i >= 19 {
			want = Inactive
		}
		steps = append(steps, step{at: time.Duration(i) * 30 * time.Second, vals: T(temp), want: want})
	}
	runSteps(t, e, "rising", envDev, steps)
}

func TestRateNeedsHalfAWindow(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: rising
    severity: major
    rate: {value: temperature_c, window: 5m, above: 1.0}
`)
	// A jump of 5 °C within one minute is not judged on one minute of data.
	runSteps(t, e, "rising", envDev, []step{
		{at: 0, vals: T(20), want: Inactive},
		{at: time.Minute, vals: T(25), want: Inactive},
		{at: 3 * time.Minute, vals: T(25), want: Firing}, // 5 °C over 3 min
	})
}

func TestStuck(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: stuck
    severity: warning
    stuck: {value: temperature_c, for: 6h}
`)
	runSteps(t, e, "stuck", envDev, []step{
		{at: 0, vals: T(22.3), want: Inactive},
		{at: 3 * time.Hour, vals: T(22.3), want: Inactive},
		{at: 5*time.Hour + 59*time.Minute, vals: T(22.3), want: Inactive},
		{at: 6 * time.Hour, vals: T(22.3), want: Firing},
		{at: 6*time.Hour + time.Minute, vals: T(22.4), want: Inactive},
		{at: 12*time.Hour + time.Minute, vals: T(22.4), want: Firing},
	})
}

func TestKeepFiringFor(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: drops
    severity: major
    match: {class: self}
    condition: spool_dropped > 0
    keep_firing_for: 10m
`)
	d := func(n float64) []collectors.Value { return vals(num("spool_dropped", n)) }
	runSteps(t, e, "drops", selfDev, []step{
		{at: 0, vals: d(5), want: Firing},
		{at: time.Minute, vals: d(0), want: Firing},
		{at: 5 * time.Minute, vals: d(3), want: Firing}, // relapse: no new alarm
		{at: 6 * time.Minute, vals: d(0), want: Firing},
		{at: 15 * time.Minute, want: Firing},
		{at: 16 * time.Minute, want: Inactive}, // Tick: 10 min clear since 6 min
	})
	if n := len(rec.take()); n != 2 {
		t.Errorf("%d transitions, want 1 fire + 1 resolve", n)
	}
}

func TestFlapping(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: leak
    severity: critical
    match: {class: di}
    condition: water_leak
    flap: {window: 30m, max: 3, hold: 10m}
`)
	w := func(on bool) []collectors.Value { return vals(boolv("water_leak", on)) }
	var steps []step
	// toggles every minute for 20 minutes
	for i := 0; i < 20; i++ {
		on := i%2 == 0
		want := Inactive
		if on || i >= 5 { // the 3rd firing (minute 4) starts the flap hold
			want = Firing
		}
		steps = append(steps, step{at: time.Duration(i) * time.Minute, vals: w(on), want: want})
	}
	// dry since minute 19: held until 10 min clear
	steps = append(steps,
		step{at: 28 * time.Minute, vals: w(false), want: Firing},
		step{at: 29 * time.Minute, vals: w(false), want: Inactive})
	runSteps(t, e, "leak", diDev, steps)
	var fires, resolves int
	var last Transition
	for _, tr := range rec.take() {
		if tr.To == Firing {
			fires++
		} else {
			resolves++
		}
		last = tr
	}
	if fires != 3 || resolves != 3 {
		t.Errorf("%d fires, %d resolves; want 3 and 3 (flap suppressed the rest)", fires, resolves)
	}
	if last.Alert.FlapCount != 3 {
		t.Errorf("flap count %d, want 3", last.Alert.FlapCount)
	}
}

func TestCalendar(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var cal *Calendar
	for _, r := range rs {
		if r.When != nil {
			cal = r.When.Calendar
		}
	}
	if cal == nil {
		t.Fatal("default set has no calendar")
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai), true},  // Wednesday
		{time.Date(2026, 11, 25, 7, 59, 0, 0, shanghai), false}, // before hours
		{time.Date(2026, 11, 25, 18, 0, 0, 0, shanghai), false}, // end is exclusive
		{time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), true},   // 10:00 in Shanghai
		{time.Date(2026, 11, 28, 10, 0, 0, 0, shanghai), false}, // Saturday
		{time.Date(2026, 10, 1, 10, 0, 0, 0, shanghai), false},  // National Day, Thursday
		{time.Date(2026, 10, 7, 17, 0, 0, 0, shanghai), false},  // end of the range
		{time.Date(2026, 10, 8, 9, 0, 0, 0, shanghai), true},    // back to work
		{time.Date(2026, 10, 10, 10, 0, 0, 0, shanghai), true},  // make-up Saturday
		{time.Date(2026, 2, 18, 10, 0, 0, 0, shanghai), false},  // Spring Festival
	} {
		if got := cal.Contains(tc.at); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestDoorOutsideWorkingHours(t *testing.T) {
	e, err := NewEngine(defaultOnly(t, "door-open-after-hours"), testInventory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	door := func(on bool) []collectors.Value { return vals(boolv("door_open", on)) }
	base := time.Date(2026, 11, 25, 17, 50, 0, 0, shanghai).Sub(t0) // Wednesday 17:50
	runSteps(t, e, "door-open-after-hours", diDev, []step{
		{at: base, vals: door(true), want: Inactive},                                 // office hours
		{at: base + 10*time.Minute, want: Firing},                                    // 18:00, still open (Tick)
		{at: base + 11*time.Minute, vals: door(false), want: Inactive},               // closed
		{at: base + 14*time.Hour + 15*time.Minute, vals: door(true), want: Inactive}, // Thursday 08:05
		{at: base + 14*time.Hour + 16*time.Minute, vals: door(false), want: Inactive},
		{at: base + 62*time.Hour, vals: door(true), want: Firing}, // Saturday 07:50
		{at: base + 62*time.Hour + 3*time.Hour, want: Firing},     // Saturday 10:50: weekend
	})
}

func TestNoDataAndNeverSeen(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: unreachable
    severity: major
    nodata: {polls: 3}
`)
	// ups1 answers, then fails three polls; th1 never answers.
	runSteps(t, e, "unreachable", upsDev, []step{
		{at: 0, want: Inactive},
		{at: time.Second, vals: vals(boolv("on_battery", false)), want: Inactive},
		{at: 11 * time.Second, lost: true, want: Inactive},
		{at: 21 * time.Second, lost: true, want: Inactive},
		{at: 31 * time.Second, lost: true, want: Firing},
		{at: 41 * time.Second, vals: vals(boolv("on_battery", false)), want: Inactive},
		{at: 50 * time.Second, want: Inactive},
		{at: 76 * time.Second, want: Inactive}, // 35 s of silence: within 3.5 intervals
		{at: 77 * time.Second, want: Firing},   // silent (no sample at all) for > 3.5 intervals
	})
	if got := stateOf(e, "unreachable", envDev); got != Firing {
		t.Errorf("never-seen th1: %v, want firing", got)
	}
	var names []string
	for _, tr := range rec.take() {
		if tr.To == Firing {
			names = append(names, tr.Alert.Labels[LabelDevice])
		}
	}
	if !strings.Contains(strings.Join(names, ","), "th1") {
		t.Errorf("fired for %v, want th1 among them", names)
	}
}

func TestNeverSeenNeedsTime(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: unreachable
    severity: major
    nodata: {polls: 3}
`)
	e.Tick(t0)
	e.Tick(t0.Add(35 * time.Second))
	if got := stateOf(e, "unreachable", envDev); got != Inactive {
		t.Fatalf("after 35 s: %v, want inactive (3.5 intervals not over)", got)
	}
	e.Tick(t0.Add(36 * time.Second))
	if got := stateOf(e, "unreachable", envDev); got != Firing {
		t.Fatalf("after 36 s: %v, want firing", got)
	}
}

func TestDisagree(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: disagree
    severity: minor
    match: {class: env}
    disagree: {value: temperature_c, by: 3, clear: 2}
`)
	room := collectors.Device{Site: "main", Room: "r1"}
	ev := func(at time.Duration, d collectors.Device, v float64) {
		e.Eval(t0.Add(at), set(d, t0.Add(at), T(v)...))
	}
	check := func(want State) {
		t.Helper()
		if got := stateOf(e, "disagree", room); got != want {
			t.Fatalf("state %v, want %v", got, want)
		}
	}
	ev(0, envDev, 22)
	check(Inactive) // one probe: unknown
	ev(time.Second, envDev2, 24.9)
	check(Inactive)
	ev(10*time.Second, envDev, 21.9)
	check(Firing)
	ev(20*time.Second, envDev, 22.5) // 2.4: inside the band
	check(Firing)
	ev(30*time.Second, envDev2, 24.4) // 1.9
	check(Inactive)
	ev(40*time.Second, envDev2, 26)
	check(Firing)
	// th1 stops reporting: its reading ages out, unknown keeps the state.
	ev(10*time.Minute, envDev2, 22)
	check(Firing)
	ts := rec.take()
	if len(ts) != 3 {
		t.Fatalf("%d transitions, want 3", len(ts))
	}
	a := ts[0].Alert
	if a.Labels[LabelDevice] != "" || a.Values["th1.temperature_c"].Num != 21.9 || a.Values["th2.temperature_c"].Num != 24.9 {
		t.Errorf("alert %+v", a)
	}
}

func TestSensorFault(t *testing.T) {
	e, _ := newTestEngine(t, `
rules:
  - name: fault
    severity: minor
    sensor_fault: {}
    for: 2m
`)
	runSteps(t, e, "fault", envDev, []step{
		{at: 0, vals: vals(num("temperature_c", 22), faulty("humidity_pct")), want: Pending},
		{at: time.Minute, lost: true, want: Pending},
		{at: 2 * time.Minute, vals: vals(num("temperature_c", 22), faulty("humidity_pct")), want: Firing},
		{at: 3 * time.Minute, vals: vals(num("temperature_c", 22), num("humidity_pct", 40)), want: Inactive},
	})
}

func TestIndexOnlyMatchingDevices(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: th2-hot
    severity: major
    match: {device: th2}
    band: {value: temperature_c, above: 28}
  - name: r1-hot
    severity: major
    match: {room: r1, profile: modbus-th}
    band: {value: temperature_c, above: 28}
  - name: labelled
    severity: major
    match: {labels: {zone: cold-aisle}}
    band: {value: temperature_c, above: 28}
`)
	e.Eval(t0, set(envDev, t0, T(30)...))
	ts := rec.take()
	if len(ts) != 1 || ts[0].Alert.Rule != "r1-hot" {
		t.Fatalf("transitions %+v, want only r1-hot", ts)
	}
	d := envDev2
	d.Labels = map[string]string{"zone": "cold-aisle"}
	e.Eval(t0, set(d, t0, T(30)...))
	ts = rec.take()
	if len(ts) != 2 || ts[0].Alert.Rule != "th2-hot" || ts[1].Alert.Rule != "labelled" {
		t.Fatalf("transitions %+v, want th2-hot and labelled", ts)
	}
}

func TestRestoreWithoutReannounce(t *testing.T) {
	const y = `
rules:
  - name: on-battery
    severity: critical
    match: {class: ups}
    condition: on_battery
  - name: hot
    severity: major
    condition: temperature_c > 28
    for: 5m
`
	e1, rec1 := newTestEngine(t, y)
	e1.Eval(t0, set(upsDev, t0, boolv("on_battery", true)))
	e1.Eval(t0, set(envDev, t0, T(30)...))
	if n := len(rec1.take()); n != 1 {
		t.Fatalf("%d transitions, want 1", n)
	}
	// Through JSON, as a key-value bucket would store it.
	blob, err := json.Marshal(e1.Alerts())
	if err != nil {
		t.Fatal(err)
	}
	var saved []Alert
	if err := json.Unmarshal(blob, &saved); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 2 {
		t.Fatalf("saved %d alerts, want firing + pending", len(saved))
	}

	// Restart: still on battery → no announcement; still hot → fires
	// 5 minutes after the original start, not after the restart.
	e2, rec2 := newTestEngine(t, y)
	e2.Restore(saved)
	later := t0.Add(3 * time.Minute)
	e2.Eval(later, set(upsDev, later, boolv("on_battery", true)))
	e2.Eval(later, set(envDev, later, T(30)...))
	if ts := rec2.take(); len(ts) != 0 {
		t.Fatalf("restart re-announced: %+v", ts)
	}
	e2.Tick(t0.Add(5 * time.Minute))
	if ts := rec2.take(); len(ts) != 1 || ts[0].Alert.Rule != "hot" {
		t.Fatalf("want hot firing at t0+5m, got %+v", ts)
	}

	// Restart again while the mains came back during the downtime: the
	// first evaluation resolves it.
	e3, rec3 := newTestEngine(t, y)
	e3.Restore(e2.Alerts())
	e3.Eval(t0.Add(time.Hour), set(upsDev, t0.Add(time.Hour), boolv("on_battery", false)))
	ts := rec3.take()
	if len(ts) != 1 || ts[0].From != Firing || ts[0].To != Inactive || ts[0].Alert.Rule != "on-battery" {
		t.Fatalf("want on-battery resolved, got %+v", ts)
	}
	if !ts[0].Alert.FiredAt.Equal(t0) {
		t.Errorf("FiredAt %v, want the original %v", ts[0].Alert.FiredAt, t0)
	}
}

func TestRestoreOrphanResolves(t *testing.T) {
	e1, _ := newTestEngine(t, `
rules:
  - name: gone
    severity: major
    condition: temperature_c > 28
`)
	e1.Eval(t0, set(envDev, t0, T(30)...))
	e2, rec := newTestEngine(t, `
rules:
  - name: other
    severity: major
    condition: temperature_c > 40
`)
	e2.Restore(e1.Alerts())
	e2.Tick(t0.Add(time.Minute))
	ts := rec.take()
	if len(ts) != 1 || ts[0].Alert.Rule != "gone" || ts[0].To != Inactive || !strings.HasPrefix(ts[0].Alert.Text[LangZh], "【恢复】") {
		t.Fatalf("want the removed rule's alert resolved, got %+v", ts)
	}
}

func TestUpdateKeepsState(t *testing.T) {
	const y1 = `
rules:
  - name: hot
    severity: major
    band: {value: temperature_c, above: 28, clear: 27}
  - name: rising
    severity: major
    rate: {value: temperature_c, window: 4m, above: 1.0}
  - name: removed
    severity: minor
    condition: temperature_c > 20
`
	const y2 = `
rules:
  - name: hot
    severity: critical
    band: {value: temperature_c, above: 28, clear: 27}
  - name: rising
    severity: major
    rate: {value: temperature_c, window: 4m, above: 1.0}
`
	e, rec := newTestEngine(t, y1)
	e.Eval(t0, set(envDev, t0, T(29)...))
	e.Eval(t0.Add(time.Minute), set(envDev, t0.Add(time.Minute), T(29.5)...))
	rec.take()
	if err := e.Update(mustParse(t, y2), testInventory()); err != nil {
		t.Fatal(err)
	}
	ts := rec.take()
	if len(ts) != 1 || ts[0].Alert.Rule != "removed" || ts[0].To != Inactive {
		t.Fatalf("update: want removed rule resolved, got %+v", ts)
	}
	// hot is still firing (changed severity, same fingerprint): no new alarm.
	e.Eval(t0.Add(2*time.Minute), set(envDev, t0.Add(2*time.Minute), T(29)...))
	if ts := rec.take(); len(ts) != 0 {
		t.Fatalf("after update: %+v", ts)
	}
	// rising kept its history: 29 → 33 over 3 min fires now.
	e.Eval(t0.Add(3*time.Minute), set(envDev, t0.Add(3*time.Minute), T(33)...))
	ts = rec.take()
	if len(ts) != 1 || ts[0].Alert.Rule != "rising" {
		t.Fatalf("want rising fired from kept history, got %+v", ts)
	}
}

func TestUpdateRejectsBadRules(t *testing.T) {
	e, _ := newTestEngine(t, "rules: [{name: a, severity: major, condition: 'x > 1'}]")
	bad := []Rule{{Name: "a", Severity: Major, Condition: "x >"}}
	if err := e.Update(bad, testInventory()); err == nil || !strings.Contains(err.Error(), `rule "a"`) {
		t.Fatalf("err %v", err)
	}
}

// The inventory may describe a device with less detail than the poller
// reports (no class); alternating Eval and Tick must not lose state.
func TestIdentityMismatchKeepsState(t *testing.T) {
	inv := testInventory()
	inv.Sites[0].Rooms[0].Devices[1].Device.Class = ""
	rec := &recorder{}
	e, err := NewEngine(mustParse(t, `
rules:
  - name: hot
    severity: major
    band: {value: temperature_c, above: 28}
  - name: env-hot
    severity: major
    match: {class: env}
    band: {value: temperature_c, above: 28}
`), inv, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		e.Eval(now, set(envDev, now, T(30)...))
		e.Tick(now)
	}
	var got []string
	for _, tr := range rec.take() {
		got = append(got, tr.Alert.Rule+":"+tr.To.String())
	}
	if strings.Join(got, ",") != "hot:firing,env-hot:firing" {
		t.Fatalf("transitions %v, want both fired once", got)
	}
}

func TestNewEngineValidatesGoRules(t *testing.T) {
	above := 28.0
	for _, r := range []Rule{
		{Name: "no-severity", Band: &Band{Value: "temperature_c", Above: &above}},
		{Name: "no-kind", Severity: Major},
		{Name: "both-bounds", Severity: Major, Band: &Band{Value: "temperature_c", Above: &above, Below: &above}},
		{Name: "no-calendar", Severity: Major, Condition: "door_open", When: &When{Outside: "office"}},
	} {
		if _, err := NewEngine([]Rule{r}, Inventory{}, nil); err == nil || !strings.Contains(err.Error(), r.Name) {
			t.Errorf("%s: err %v", r.Name, err)
		}
	}
	cal := &Calendar{Name: "office", Weekdays: []string{"mon..fri"}, Hours: "08:00-18:00"}
	r := Rule{Name: "door", Severity: Major, Condition: "door_open", When: &When{Outside: "office", Calendar: cal}}
	e, err := NewEngine([]Rule{r}, testInventory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sat := time.Date(2026, 11, 28, 10, 0, 0, 0, shanghai)
	e.Eval(sat, set(diDev, sat, boolv("door_open", true)))
	if got := stateOf(e, "door", diDev); got != Firing {
		t.Errorf("Saturday door: %v, want firing", got)
	}
}
