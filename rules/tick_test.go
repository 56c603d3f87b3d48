package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// A delayed alarm whose `for` runs out on the tick, with no sample set,
// carries the values of the device's last one and complete messages.
func TestDelayedAlarmFiredOnTickCarriesValues(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		dev    collectors.Device
		vals   []collectors.Value
		after  time.Duration
		rule   string
		values []string
		zh, en []string
	}{{
		name: "runtime below carry time", dev: upsDev, rule: "ups-runtime-below-carry-time",
		vals:   vals(num("runtime_min", 100), num("load_pct", 41), num("charge_pct", 97), boolv("on_battery", false)),
		after:  5 * time.Minute,
		values: []string{"runtime_min", "load_pct", "charge_pct"},
		zh:     []string{"【重要】一号机房 UPS1 ", "当前负载下预计 100 分钟，低于要求的 360 分钟"},
		en:     []string{"[MAJOR] Room 1 UPS1 ", "100 min at present load, room requires 360 min"},
	}, {
		name: "sensor fault", dev: envDev, rule: "sensor-fault",
		vals:   vals(faulty("temperature_c"), num("humidity_pct", 45)),
		after:  2 * time.Minute,
		values: []string{"temperature_c"},
		zh:     []string{"【次要】一号机房 温湿度1 传感器故障：温度读数无效"},
		en:     []string{"[MINOR] Room 1 T/H 1 sensor fault: temperature reading invalid"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			e, err := NewEngine(def, testInventory(), rec.notify)
			if err != nil {
				t.Fatal(err)
			}
			e.Eval(t0, set(tc.dev, t0, tc.vals...))
			e.Tick(t0.Add(tc.after - time.Second))
			for _, tr := range rec.take() {
				if tr.Alert.Rule == tc.rule {
					t.Fatalf("fired before `for` ran out: %+v", tr)
				}
			}
			e.Tick(t0.Add(tc.after))
			var fired *Transition
			for _, tr := range rec.take() {
				if tr.Alert.Rule == tc.rule && tr.To == Firing {
					fired = &tr
				}
			}
			if fired == nil {
				t.Fatalf("%s did not fire on the tick", tc.rule)
			}
			for _, n := range tc.values {
				if _, ok := fired.Alert.Values[n]; !ok {
					t.Errorf("values %v lack %s", fired.Alert.Values, n)
				}
			}
			for lang, want := range map[string][]string{LangZh: tc.zh, LangEn: tc.en} {
				for _, w := range want {
					if !strings.Contains(fired.Alert.Text[lang], w) {
						t.Errorf("%s text %q lacks %q", lang, fired.Alert.Text[lang], w)
					}
				}
			}
		})
	}
}

// Alarm state of a site, or of a device of a configured room, that is no
// longer configured is resolved at the first tick after a restart; the
// monitor's own device, in no configured room, keeps its alarm.
func TestRestoredAlarmOfUnconfiguredSiteResolves(t *testing.T) {
	const y = `
rules:
  - name: hot
    severity: major
    condition: temperature_c > 28
`
	oldSite := collectors.Device{Site: "annex", Room: "r9", Name: "th9", Profile: "modbus-th", Class: "env"}
	goneDev := collectors.Device{Site: "main", Room: "r1", Name: "th-removed", Profile: "modbus-th", Class: "env"}
	self := collectors.Device{Site: "main", Room: "roomwatch", Name: "roomwatch", Profile: "roomwatch", Class: "self"}
	e1, _ := newTestEngine(t, y)
	for _, d := range []collectors.Device{oldSite, goneDev, self, envDev} {
		e1.Eval(t0, set(d, t0, T(30)...))
	}
	if n := len(e1.Alerts()); n != 4 {
		t.Fatalf("%d alerts firing, want 4", n)
	}

	e2, rec := newTestEngine(t, y)
	e2.Restore(e1.Alerts())
	e2.Tick(t0.Add(time.Minute))
	resolved := map[string]bool{}
	for _, tr := range rec.take() {
		if tr.From != Firing || tr.To != Inactive || !strings.HasPrefix(tr.Alert.Text[LangZh], "【恢复】") {
			t.Errorf("unexpected transition %+v", tr)
		}
		resolved[tr.Alert.Labels[LabelDevice]] = true
	}
	if !resolved["th9"] || !resolved["th-removed"] || len(resolved) != 2 {
		t.Fatalf("resolved %v, want th9 (site gone) and th-removed (device gone)", resolved)
	}
	left := map[string]bool{}
	for _, a := range e2.Alerts() {
		left[a.Labels[LabelDevice]] = true
	}
	if len(left) != 2 || !left["roomwatch"] || !left[envDev.Name] {
		t.Fatalf("alerts left %v, want the monitor's and th1's", left)
	}
	// Listed no more at the next start either.
	e3, rec3 := newTestEngine(t, y)
	e3.Restore(e2.Alerts())
	e3.Tick(t0.Add(2 * time.Minute))
	if ts := rec3.take(); len(ts) != 0 {
		t.Fatalf("second restart: %+v", ts)
	}
}
