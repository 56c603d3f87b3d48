package nut

import (
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

func nutUPS(t testing.TB) *profiles.Profile {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set["nut-ups"]
	if !ok {
		t.Fatal("no built-in profile nut-ups")
	}
	return p
}

// want is one expected value: its Any() form when good, else the
// quality and a piece of its error.
type want struct {
	v       any
	quality collectors.Quality
	err     string
}

func checkDecoded(t *testing.T, got []collectors.Value, wants map[string]want) {
	t.Helper()
	for name, w := range wants {
		var g *collectors.Value
		for i := range got {
			if got[i].Name == name {
				g = &got[i]
			}
		}
		if g == nil {
			t.Errorf("%s: missing", name)
			continue
		}
		if g.Quality != w.quality {
			t.Errorf("%s: quality %s (%s), want %s", name, g.Quality, g.Err, w.quality)
			continue
		}
		if w.quality != collectors.Good {
			if !strings.Contains(g.Err, w.err) {
				t.Errorf("%s: err %q, want it to contain %q", name, g.Err, w.err)
			}
			continue
		}
		if g.Any() != w.v {
			t.Errorf("%s = %v (%T), want %v (%T)", name, g.Any(), g.Any(), w.v, w.v)
		}
	}
}

func TestDecode(t *testing.T) {
	p := nutUPS(t)
	full := map[string]string{
		"ups.status": "OL CHRG", "battery.charge": "100", "battery.runtime": "2700",
		"battery.voltage": "54.6", "battery.temperature": "25.0", "input.voltage": "230.0",
		"output.voltage": "229.5", "ups.load": "35", "ups.model": "Back-UPS ES 700",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	good := func(v any) want { return want{v: v} }
	cases := []struct {
		name  string
		vars  map[string]string
		wants map[string]want
	}{
		{"on line, charging", full, map[string]want{
			"on_battery": good(false), "battery_status": good("normal"), "replace_battery": good(false),
			"runtime_min": good(45.0), "charge_pct": good(100.0), "battery_voltage_v": good(54.6),
			"battery_temp_c": good(25.0), "input_voltage_v": good(230.0), "output_voltage_v": good(229.5),
			"load_pct": good(35.0), "model": good("Back-UPS ES 700"),
		}},
		{"on battery, low", with("ups.status", "OB DISCHRG LB"), map[string]want{
			"on_battery": good(true), "battery_status": good("low"),
		}},
		{"replace battery", with("ups.status", "OL RB"), map[string]want{
			"on_battery": good(false), "replace_battery": good(true),
		}},
		{"driver still waiting", with("ups.status", "WAIT"), map[string]want{
			"on_battery": {quality: collectors.SensorFault, err: `ups.status "WAIT"`},
		}},
		{"variable missing", with("battery.temperature", ""), map[string]want{
			"battery_temp_c": {quality: collectors.SensorFault, err: "battery.temperature: upsd does not report"},
			"charge_pct":     good(100.0),
		}},
		{"not a number", with("ups.load", "n/a"), map[string]want{
			"load_pct": {quality: collectors.SensorFault, err: `ups.load "n/a": not a number`},
		}},
		{"out of range", with("battery.charge", "140"), map[string]want{
			"charge_pct": {quality: collectors.SensorFault, err: "battery.charge: value 140 % out of range"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkDecoded(t, Decode(p, c.vars, nil), c.wants)
		})
	}
}

func TestDecodeInvert(t *testing.T) {
	p := nutUPS(t)
	got := Decode(p, map[string]string{"ups.status": "OB"}, func(n string) bool { return n == "on_battery" })
	checkDecoded(t, got, map[string]want{"on_battery": {v: false}})
}

func TestUnquote(t *testing.T) {
	for in, out := range map[string]string{`"230.0"`: "230.0", `"a \"b\" \\c"`: `a "b" \c`, `""`: ""} {
		got, err := unquote(in)
		if err != nil || got != out {
			t.Errorf("unquote(%s) = %q, %v; want %q", in, got, err, out)
		}
		if back, _ := unquote(quote(out)); back != out {
			t.Errorf("quote(%q) does not round-trip: %q", out, back)
		}
	}
	if _, err := unquote("230"); err == nil {
		t.Error("unquoted value accepted")
	}
}
