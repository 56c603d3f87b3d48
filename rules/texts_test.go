package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// example drives one default rule to firing and back: at minute i from
// start, fire(i) (then clear(i), after it fired) gives the sample sets
// the devices send (none: silence).
type example struct {
	rule  string
	start time.Duration
	fire  func(i int) []collectors.SampleSet
	clear func(i int) []collectors.SampleSet
}

// sends returns a feed of device d sending f(i).
func sends(d collectors.Device, f func(i int) []collectors.Value) func(int) []collectors.SampleSet {
	return func(i int) []collectors.SampleSet {
		if v := f(i); v != nil {
			return []collectors.SampleSet{{Device: d, Values: v}}
		}
		return nil
	}
}

// steady is a feed of device d sending the same values every minute.
func steady(d collectors.Device, v ...collectors.Value) func(int) []collectors.SampleSet {
	return sends(d, func(int) []collectors.Value { return v })
}

func upsWith(over ...collectors.Value) func(int) []collectors.SampleSet {
	return steady(upsDev, with(healthy(upsDev, 0), over...)...)
}

func diWith(over ...collectors.Value) func(int) []collectors.SampleSet {
	return steady(diDev, with(healthy(diDev, 0), over...)...)
}

func th(t, h float64) func(int) []collectors.SampleSet {
	return steady(envDev, num("temperature_c", t), num("humidity_pct", h))
}

var defaultExamples = []example{
	{rule: "ups-on-battery", fire: upsWith(boolv("on_battery", true), num("runtime_min", 42)), clear: upsWith()},
	{rule: "ups-runtime-below-carry-time", fire: upsWith(num("runtime_min", 250)), clear: upsWith(num("runtime_min", 420))},
	{rule: "ups-runtime-critical", fire: upsWith(boolv("on_battery", true), num("runtime_min", 9)), clear: upsWith(num("runtime_min", 380))},
	{rule: "ups-battery-low", fire: upsWith(enum("battery_status", "low"), num("charge_pct", 23)), clear: upsWith(num("charge_pct", 64))},
	{rule: "ups-battery-depleted", fire: upsWith(enum("battery_status", "fault")), clear: upsWith()},
	{rule: "ups-battery-temperature-high", fire: upsWith(num("battery_temp_c", 41.5)), clear: upsWith(num("battery_temp_c", 31.2))},
	{rule: "ups-overload", fire: upsWith(num("load_pct", 86)), clear: upsWith(num("load_pct", 62.4))},
	{rule: "ups-overload-critical", fire: upsWith(num("load_pct", 97)), clear: upsWith(num("load_pct", 71))},
	{rule: "ups-alarms-present", fire: upsWith(num("alarms_present", 2)), clear: upsWith()},
	{rule: "room-temperature-high", fire: th(28.4, 45), clear: th(25.3, 45)},
	{rule: "room-temperature-critical", fire: th(33, 40), clear: th(28.9, 42)},
	{rule: "room-temperature-low", fire: th(16.5, 50), clear: th(20.2, 48)},
	{rule: "room-humidity-high", fire: th(23, 65), clear: th(23, 52)},
	{rule: "room-humidity-critical", fire: th(23, 85), clear: th(23, 58)},
	{rule: "room-humidity-low", fire: th(22, 25), clear: th(22, 45)},
	{rule: "room-temperature-rising", fire: sends(envDev, func(i int) []collectors.Value {
		return vals(num("temperature_c", 22+1.5*float64(i)), num("humidity_pct", 45))
	}), clear: th(31, 45)},
	{rule: "env-temperature-stuck", fire: sends(envDev, func(i int) []collectors.Value {
		return vals(num("temperature_c", 22.3), num("humidity_pct", 45+float64(i%3)))
	}), clear: th(22.8, 46)},
	{rule: "env-humidity-stuck", fire: sends(envDev, func(i int) []collectors.Value {
		return vals(num("temperature_c", 22+float64(i%3)/10), num("humidity_pct", 45))
	}), clear: th(22.4, 47.5)},
	{rule: "env-probes-disagree", fire: func(int) []collectors.SampleSet {
		return []collectors.SampleSet{
			{Device: envDev, Values: vals(num("temperature_c", 22), num("humidity_pct", 45))},
			{Device: envDev2, Values: vals(num("temperature_c", 26.2), num("humidity_pct", 45))}}
	}, clear: func(int) []collectors.SampleSet {
		return []collectors.SampleSet{
			{Device: envDev, Values: vals(num("temperature_c", 23.1), num("humidity_pct", 45))},
			{Device: envDev2, Values: vals(num("temperature_c", 23.8), num("humidity_pct", 45))}}
	}},
	{rule: "spd-fault", fire: diWith(boolv("spd_fault", true)), clear: diWith()},
	{rule: "water-leak", fire: diWith(boolv("water_leak", true)), clear: diWith()},
	{rule: "smoke", fire: diWith(boolv("smoke", true)), clear: diWith()},
	{rule: "door-open-too-long", fire: diWith(boolv("door_open", true)), clear: diWith()},
	// Wednesday 21:00 in Shanghai: outside working hours.
	{rule: "door-open-after-hours", start: 11 * time.Hour, fire: diWith(boolv("door_open", true)), clear: diWith()},
	{rule: "sensor-fault", fire: steady(envDev, faulty("temperature_c"), faulty("humidity_pct")), clear: th(23.4, 46)},
	{rule: "device-unreachable", fire: func(int) []collectors.SampleSet { return nil }, clear: upsWith()},
	{rule: "spool-dropping", fire: steady(selfDev, num("spool_dropped", 17)), clear: steady(selfDev, num("spool_dropped", 0))},
}

// snakeCase matches an identifier such as temperature_c: a raw value
// name that must not reach a Chinese text.
var snakeCase = regexp.MustCompile(`[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+`)

// TestDefaultTexts: every default rule fires on an example and resolves
// when it clears; the four texts (firing and recovery, zh and en) are
// compared with testdata/texts/<rule>.txt (go test -run TestDefaultTexts
// -update rewrites them). A Chinese text names no value by its identifier.
func TestDefaultTexts(t *testing.T) {
	tested := map[string]bool{}
	for _, ex := range defaultExamples {
		tested[ex.rule] = true
		t.Run(ex.rule, func(t *testing.T) {
			rec := &recorder{}
			e, err := NewEngine(defaultOnly(t, ex.rule), testInventory(), rec.notify)
			if err != nil {
				t.Fatal(err)
			}
			// Alerts of the devices the example is about (device-
			// unreachable fires for every silent device).
			about := map[string]bool{"": true}
			for _, s := range ex.clear(0) {
				about[s.Device.Name] = true
			}
			var fired, resolved *Transition
			feed := ex.fire
			start := t0.Add(ex.start)
			for i := 0; i < 8*60 && resolved == nil; i++ {
				now := start.Add(time.Duration(i) * time.Minute)
				if fired != nil {
					feed = ex.clear
				}
				for _, s := range feed(i) {
					s.Time = now
					e.Eval(now, s)
				}
				e.Tick(now)
				for _, tr := range rec.take() {
					switch {
					case !about[tr.Alert.Labels[LabelDevice]]:
					case tr.To == Firing && fired == nil:
						fired = &tr
					case tr.From == Firing && tr.To == Inactive:
						resolved = &tr
					}
				}
			}
			if fired == nil || resolved == nil {
				t.Fatalf("fired %v, resolved %v within 8 h", fired != nil, resolved != nil)
			}
			var got strings.Builder
			for _, tr := range []*Transition{fired, resolved} {
				for _, lang := range []string{LangZh, LangEn} {
					s := tr.Alert.Text[lang]
					got.WriteString(tr.To.String() + " " + lang + ": " + s + "\n")
					if strings.Contains(s, "<no value>") || strings.Contains(s, "  ") || strings.Contains(s, "%!") {
						t.Errorf("%s text %q looks broken", lang, s)
					}
					if id := snakeCase.FindString(s); lang == LangZh && id != "" {
						t.Errorf("zh text %q names %s by its identifier", s, id)
					}
				}
			}
			golden(t, filepath.Join("testdata", "texts", ex.rule+".txt"), got.String())
		})
	}
	rs, _ := Default()
	for _, r := range rs {
		if !tested[r.Name] {
			t.Errorf("default rule %s has no example", r.Name)
		}
	}
}

// golden compares got with the file at path, or rewrites it under
// -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("texts differ from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestDeviceTitleNotDoubled: a device titled with its room's name is
// named once in "{{.Room}} {{.Device}}", and a device titled just like
// its room leaves no hole in the text.
func TestDeviceTitleNotDoubled(t *testing.T) {
	for _, tc := range []struct{ title, zh string }{
		{"一号机房 UPS", "【严重】一号机房 UPS 市电中断，UPS 由电池供电，剩余 42 分钟"},
		{"UPS（一号机房）", "【严重】一号机房 UPS（一号机房） 市电中断，UPS 由电池供电，剩余 42 分钟"},
		{"一号机房-UPS", "【严重】一号机房 UPS 市电中断，UPS 由电池供电，剩余 42 分钟"},
		{"主机 UPS 一号机房", "【严重】一号机房 主机 UPS 市电中断，UPS 由电池供电，剩余 42 分钟"},
		{"一号机房", "【严重】一号机房 市电中断，UPS 由电池供电，剩余 42 分钟"},
	} {
		inv := testInventory()
		inv.Sites[0].Rooms[0].Devices[0].Title = map[string]string{"zh": tc.title}
		rec := &recorder{}
		e, err := NewEngine(defaultOnly(t, "ups-on-battery"), inv, rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		e.Eval(t0, set(upsDev, t0, boolv("on_battery", true), num("runtime_min", 42)))
		ts := rec.take()
		if len(ts) != 1 {
			t.Fatalf("%s: transitions %+v", tc.title, ts)
		}
		if got := ts[0].Alert.Text[LangZh]; got != tc.zh {
			t.Errorf("title %q:\n got %q\nwant %q", tc.title, got, tc.zh)
		}
		if got := ts[0].Alert.Titles[LabelDevice].Zh; got != tc.title {
			t.Errorf("device title %q carried as %q", tc.title, got)
		}
	}
}

// TestValueTitlesFromProfile: the engine names values as its titles
// function says, and carries the names in the alert.
func TestValueTitlesFromProfile(t *testing.T) {
	rec := &recorder{}
	names := func(profile, name string) collectors.Title {
		if profile == envDev.Profile && name == "temperature_c" {
			return collectors.Title{Zh: "回风温度", En: "return air temperature"}
		}
		return collectors.ValueTitle(name)
	}
	e, err := NewEngine(defaultOnly(t, "sensor-fault"), testInventory(), rec.notify, WithValueTitles(names))
	if err != nil {
		t.Fatal(err)
	}
	for m := 0; m <= 2; m++ {
		now := t0.Add(time.Duration(m) * time.Minute)
		e.Eval(now, set(envDev, now, faulty("temperature_c"), num("humidity_pct", 45)))
	}
	ts := rec.take()
	if len(ts) != 1 {
		t.Fatalf("transitions %+v", ts)
	}
	a := ts[0].Alert
	if want := "【次要】一号机房 温湿度1 传感器故障：回风温度读数无效"; a.Text[LangZh] != want {
		t.Errorf("zh %q, want %q", a.Text[LangZh], want)
	}
	if a.ValueTitles["temperature_c"].En != "return air temperature" || a.Titles[LabelRoom].Zh != "一号机房" {
		t.Errorf("titles %+v %+v", a.ValueTitles, a.Titles)
	}
}

func TestFmtDuration(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		zh, en string
	}{
		{42 * time.Second, "42 秒", "42 s"},
		{59*time.Second + 600*time.Millisecond, "1 分钟", "1 min"}, // one outage: 59.6 s on one UPS, 60.2 s on another
		{60*time.Second + 200*time.Millisecond, "1 分钟", "1 min"},
		{59*time.Second + 400*time.Millisecond, "59 秒", "59 s"},
		{12*time.Minute + 40*time.Second, "12 分钟", "12 min"},
		{2*time.Hour + 5*time.Minute, "2 小时 5 分钟", "2 h 5 min"},
		{3 * time.Hour, "3 小时", "3 h"},
		{76 * time.Hour, "3 天 4 小时", "3 d 4 h"},
	} {
		if zh, en := fmtDuration(tc.d, LangZh), fmtDuration(tc.d, LangEn); zh != tc.zh || en != tc.en {
			t.Errorf("%v: %q %q, want %q %q", tc.d, zh, en, tc.zh, tc.en)
		}
	}
}

// TestDefaultMessageOfUserRule: a rule without message texts names its
// value by display name, and its recovery says the value is back with
// the reading now, not the alarm's text again.
func TestDefaultMessageOfUserRule(t *testing.T) {
	e, rec := newTestEngine(t, `
rules:
  - name: battery-warm
    severity: minor
    band: {value: battery_temp_c, above: 30, clear: 28}
`)
	e.Eval(t0, set(upsDev, t0, num("battery_temp_c", 31.4)))
	e.Eval(t0.Add(12*time.Minute), set(upsDev, t0.Add(12*time.Minute), num("battery_temp_c", 25.3)))
	var got []string
	for _, tr := range rec.take() {
		got = append(got, tr.Alert.Text[LangZh], tr.Alert.Text[LangEn])
	}
	want := []string{
		"【次要】一号机房 UPS1 电池温度告警：31.4°C", "[MINOR] Room 1 UPS1 battery temperature alarm: 31.4 °C",
		"【恢复】一号机房 UPS1 电池温度已恢复正常（当前 25.3°C，持续 12 分钟）",
		"[RESOLVED] Room 1 UPS1 battery temperature back to normal (now 25.3 °C, lasted 12 min)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
