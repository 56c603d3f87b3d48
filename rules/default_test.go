package rules

import (
	"math"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// defaultOnly returns the named default rules.
func defaultOnly(t testing.TB, names ...string) []Rule {
	t.Helper()
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []Rule
	for _, r := range rs {
		for _, n := range names {
			if r.Name == n {
				out = append(out, r)
			}
		}
	}
	if len(out) != len(names) {
		t.Fatalf("default rules %v: found %d", names, len(out))
	}
	return out
}

func TestDefaultLoads(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 20 {
		t.Fatalf("%d default rules", len(rs))
	}
	if _, err := NewEngine(rs, testInventory(), nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Message.Zh == "" || r.Message.En == "" {
			t.Errorf("rule %s: missing zh or en message", r.Name)
		}
	}
}

// healthy returns the sample set of a healthy room's device at minute i,
// with small natural variation.
func healthy(d collectors.Device, i int) []collectors.Value {
	w := math.Sin(float64(i) / 7)
	switch d.Class {
	case "ups":
		return vals(boolv("on_battery", false), num("runtime_min", 420+3*w), num("charge_pct", 100),
			enum("battery_status", "normal"), num("battery_voltage_v", 54.2), num("battery_temp_c", 26+w),
			num("input_voltage_v", 221+2*w), num("output_voltage_v", 220), num("load_pct", 41+2*w),
			num("seconds_on_battery", 0), num("alarms_present", 0))
	case "env":
		return vals(num("temperature_c", math.Round((23+0.6*w)*10)/10), num("humidity_pct", math.Round((48+2*w)*10)/10))
	case "di":
		return vals(boolv("door_open", false), boolv("spd_fault", false), boolv("water_leak", false), boolv("smoke", false))
	case "self":
		return vals(num("spool_dropped", 0))
	}
	return nil
}

func with(vs []collectors.Value, over ...collectors.Value) []collectors.Value {
	out := append([]collectors.Value(nil), vs...)
	for _, o := range over {
		found := false
		for i := range out {
			if out[i].Name == o.Name {
				out[i], found = o, true
			}
		}
		if !found {
			out = append(out, o)
		}
	}
	return out
}

// TestDefaultHealthyRoomIsQuiet: a healthy room, polled every minute for
// eight hours, raises no alarm at all.
func TestDefaultHealthyRoomIsQuiet(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e, err := NewEngine(rs, testInventory(), rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8*60; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		for _, d := range []collectors.Device{upsDev, envDev, envDev2, diDev, selfDev} {
			e.Eval(now, set(d, now, healthy(d, i)...))
		}
		e.Tick(now)
	}
	for _, tr := range rec.take() {
		t.Errorf("false alarm: %s %s", tr.Alert.Rule, tr.Alert.Text[LangEn])
	}
}

func TestDefaultDisagreeFires(t *testing.T) {
	rec := &recorder{}
	e, err := NewEngine(defaultOnly(t, "env-probes-disagree"), testInventory(), rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= 15; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		e.Eval(now, set(envDev, now, num("temperature_c", 22), num("humidity_pct", 45)))
		e.Eval(now, set(envDev2, now, num("temperature_c", 26.2), num("humidity_pct", 45)))
	}
	ts := rec.take()
	if len(ts) != 1 || ts[0].To != Firing {
		t.Fatalf("transitions %+v", ts)
	}
	want := "【次要】一号机房 多个温度探头读数相差 4.2°C（阈值 3°C），请核实探头或局部热点"
	if got := ts[0].Alert.Text[LangZh]; got != want {
		t.Errorf("zh %q, want %q", got, want)
	}
}
