package rules

import (
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// t0 is a Wednesday, 10:00 in Shanghai: inside working hours.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)

var (
	upsDev  = collectors.Device{Site: "main", Room: "r1", Name: "ups1", Profile: "rfc1628-ups", Class: "ups"}
	envDev  = collectors.Device{Site: "main", Room: "r1", Name: "th1", Profile: "modbus-th", Class: "env"}
	envDev2 = collectors.Device{Site: "main", Room: "r1", Name: "th2", Profile: "apc-env", Class: "env"}
	diDev   = collectors.Device{Site: "main", Room: "r1", Name: "di1", Profile: "modbus-di", Class: "di"}
	selfDev = collectors.Device{Site: "main", Name: "monitor", Profile: "roomwatch", Class: "self"}
)

func testInventory() Inventory {
	return Inventory{Sites: []Site{{
		Name:  "main",
		Title: map[string]string{"zh": "总院", "en": "Main campus"},
		Rooms: []Room{{
			Name:      "r1",
			Title:     map[string]string{"zh": "一号机房", "en": "Room 1"},
			CarryTime: 6 * time.Hour,
			Devices: []DeviceInfo{
				{Device: upsDev, Interval: 10 * time.Second, Title: map[string]string{"zh": "UPS1", "en": "UPS1"}},
				{Device: envDev, Interval: 10 * time.Second, Title: map[string]string{"zh": "温湿度1", "en": "T/H 1"}},
				{Device: envDev2, Interval: 10 * time.Second},
				{Device: diDev, Interval: 10 * time.Second},
			},
		}},
	}}}
}

func num(name string, v float64) collectors.Value {
	return collectors.Value{Name: name, Kind: collectors.Number, Num: v, Unit: unitOf(name)}
}

func boolv(name string, on bool) collectors.Value {
	v := collectors.Value{Name: name, Kind: collectors.Bool}
	if on {
		v.Num = 1
	}
	return v
}

func enum(name, label string) collectors.Value {
	return collectors.Value{Name: name, Kind: collectors.Enum, Str: label}
}

func faulty(name string) collectors.Value {
	return collectors.Value{Name: name, Kind: collectors.Number, Quality: collectors.SensorFault, Err: "register 1: sentinel"}
}

func unitOf(name string) string {
	switch name {
	case "temperature_c", "battery_temp_c":
		return "°C"
	case "humidity_pct", "load_pct", "charge_pct":
		return "%"
	case "runtime_min":
		return "min"
	}
	return ""
}

func set(d collectors.Device, at time.Time, vals ...collectors.Value) collectors.SampleSet {
	return collectors.SampleSet{Device: d, Time: at, Values: vals}
}

func lost(d collectors.Device, at time.Time) collectors.SampleSet {
	return collectors.SampleSet{Device: d, Time: at, Err: "timeout",
		Values: []collectors.Value{{Name: "temperature_c", Quality: collectors.CommsLost}}}
}

// recorder collects notified transitions.
type recorder struct{ ts []Transition }

func (r *recorder) notify(ts []Transition) { r.ts = append(r.ts, ts...) }

func (r *recorder) take() []Transition {
	ts := r.ts
	r.ts = nil
	return ts
}

func mustParse(t testing.TB, yaml string) []Rule {
	t.Helper()
	rs, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rs
}

func newTestEngine(t testing.TB, yaml string, opts ...Option) (*Engine, *recorder) {
	t.Helper()
	rec := &recorder{}
	e, err := NewEngine(mustParse(t, yaml), testInventory(), rec.notify, opts...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e, rec
}

// stateOf returns the state of rule on device d (Inactive when unknown).
func stateOf(e *Engine, rule string, d collectors.Device) State {
	fp := Fingerprint(rule, d.Site, d.Room, d.Name)
	for _, a := range e.Alerts() {
		if a.Fingerprint == fp {
			return a.State
		}
	}
	return Inactive
}

// step is one evaluation on the fake clock: at offset `at`, the device
// reports vals (none: a Tick only), and the rule must then be in want.
type step struct {
	at   time.Duration
	vals []collectors.Value
	lost bool
	want State
}

func runSteps(t *testing.T, e *Engine, rule string, d collectors.Device, steps []step) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		switch {
		case s.lost:
			e.Eval(now, lost(d, now))
		case s.vals != nil:
			e.Eval(now, set(d, now, s.vals...))
		default:
			e.Tick(now)
		}
		if got := stateOf(e, rule, d); got != s.want {
			t.Fatalf("step %d (at %v, %v): state %v, want %v", i, s.at, s.vals, got, s.want)
		}
	}
}

func vals(v ...collectors.Value) []collectors.Value { return v }

func ptr[T any](v T) *T { return &v }
