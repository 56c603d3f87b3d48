package rules

import (
	"fmt"
	"math"
	"strings"
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

// TestDefaultRulesFire: every default rule fires on an example.
func TestDefaultRulesFire(t *testing.T) {
	cases := []struct {
		rule string
		dev  collectors.Device
		// sample at minute i; nil = no sample (silence)
		at  func(i int) []collectors.Value
		max int // minutes to run
		zh  string
		en  string
	}{
		{"ups-on-battery", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), boolv("on_battery", true), num("runtime_min", 42))
		}, 1, "【严重】一号机房 UPS1 市电中断，UPS 由电池供电，剩余 42 分钟", "[CRITICAL] Room 1 UPS1 mains lost, on battery, 42 min left"},
		{"ups-runtime-below-carry-time", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), num("runtime_min", 250))
		}, 6, "【重要】一号机房 UPS1 电池后备时间不足：当前负载下预计 250 分钟，低于要求的 360 分钟",
			"[MAJOR] Room 1 UPS1 battery runtime too short: 250 min at present load, room requires 360 min"},
		{"ups-runtime-critical", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), boolv("on_battery", true), num("runtime_min", 9))
		}, 1, "【严重】一号机房 UPS1 电池即将耗尽，剩余 9 分钟，请准备有序关机", ""},
		{"ups-battery-low", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), enum("battery_status", "low"), num("charge_pct", 23))
		}, 1, "【重要】一号机房 UPS1 电池电量低（23%）", "[MAJOR] Room 1 UPS1 battery low (23 %)"},
		{"ups-battery-depleted", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), enum("battery_status", "fault"))
		}, 1, "", "[CRITICAL] Room 1 UPS1 battery depleted or failed (fault), the UPS cannot carry the load"},
		{"ups-battery-temperature-high", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), num("battery_temp_c", 41.5))
		}, 6, "【重要】一号机房 UPS1 电池温度过高：41.5°C（阈值 40°C）", ""},
		{"ups-overload", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), num("load_pct", 86))
		}, 2, "", "[MAJOR] Room 1 UPS1 output load high: 86 % (limit 80 %)"},
		{"ups-overload-critical", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), num("load_pct", 97))
		}, 1, "", ""},
		{"ups-alarms-present", upsDev, func(int) []collectors.Value {
			return with(healthy(upsDev, 0), num("alarms_present", 2))
		}, 2, "", ""},
		{"room-temperature-high", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 28.4), num("humidity_pct", 45))
		}, 6, "【重要】一号机房 温度过高：28.4°C（温湿度1，阈值 27°C）", "[MAJOR] Room 1 temperature high: 28.4 °C (T/H 1, limit 27 °C)"},
		{"room-temperature-critical", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 33), num("humidity_pct", 40))
		}, 2, "", ""},
		{"room-temperature-low", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 16.5), num("humidity_pct", 50))
		}, 16, "", ""},
		{"room-humidity-high", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 23), num("humidity_pct", 65))
		}, 16, "【次要】一号机房 湿度过高：65%RH（温湿度1，阈值 60%RH / 露点 15°C）", ""},
		{"room-humidity-critical", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 23), num("humidity_pct", 85))
		}, 6, "", ""},
		{"room-humidity-low", envDev, func(int) []collectors.Value {
			return vals(num("temperature_c", 22), num("humidity_pct", 25))
		}, 16, "", ""},
		{"room-temperature-rising", envDev, func(i int) []collectors.Value {
			return vals(num("temperature_c", 22+1.5*float64(i)), num("humidity_pct", 45))
		}, 6, "", ""},
		{"env-temperature-stuck", envDev, func(i int) []collectors.Value {
			return vals(num("temperature_c", 22.3), num("humidity_pct", 45+float64(i%3)))
		}, 6*60 + 1, "", "[WARNING] Room 1 T/H 1 temperature reading unchanged for 6 h, the sensor may be frozen"},
		{"env-humidity-stuck", envDev, func(i int) []collectors.Value {
			return vals(num("temperature_c", 22+float64(i%3)/10), num("humidity_pct", 45))
		}, 6*60 + 1, "", ""},
		{"spd-fault", diDev, func(int) []collectors.Value {
			return with(healthy(diDev, 0), boolv("spd_fault", true))
		}, 1, "【重要】一号机房 防雷器（SPD）故障，请尽快更换", ""},
		{"water-leak", diDev, func(int) []collectors.Value {
			return with(healthy(diDev, 0), boolv("water_leak", true))
		}, 1, "【严重】一号机房 漏水告警（di1），请立即到场检查", ""},
		{"smoke", diDev, func(int) []collectors.Value {
			return with(healthy(diDev, 0), boolv("smoke", true))
		}, 1, "", "[CRITICAL] Room 1 smoke detected (di1), go and check now"},
		{"door-open-too-long", diDev, func(int) []collectors.Value {
			return with(healthy(diDev, 0), boolv("door_open", true))
		}, 11, "【次要】一号机房 门已打开超过 10 分钟，请确认已关闭", ""},
		{"sensor-fault", envDev, func(int) []collectors.Value {
			return vals(faulty("temperature_c"), num("humidity_pct", 45))
		}, 3, "【次要】一号机房 温湿度1 传感器故障：temperature_c 读数无效", ""},
		{"device-unreachable", upsDev, func(int) []collectors.Value { return nil }, 2,
			"【重要】一号机房 UPS1 通信中断（连续 3 次轮询无应答）", "[MAJOR] Room 1 UPS1 unreachable (3 polls without answer)"},
		{"spool-dropping", selfDev, func(int) []collectors.Value {
			return vals(num("spool_dropped", 17))
		}, 1, "【重要】监控数据缓存已满，丢弃 17 条最旧数据，请检查 InfluxDB", ""},
	}
	tested := map[string]bool{"door-open-after-hours": true, "env-probes-disagree": true} // own tests
	for _, tc := range cases {
		tested[tc.rule] = true
		t.Run(tc.rule, func(t *testing.T) {
			rec := &recorder{}
			e, err := NewEngine(defaultOnly(t, tc.rule), testInventory(), rec.notify)
			if err != nil {
				t.Fatal(err)
			}
			var fired *Transition
			for i := 0; i < tc.max && fired == nil; i++ {
				now := t0.Add(time.Duration(i) * time.Minute)
				if v := tc.at(i); v != nil {
					e.Eval(now, set(tc.dev, now, v...))
				}
				e.Tick(now)
				for _, tr := range rec.take() {
					if tr.To == Firing && tr.Alert.Labels[LabelDevice] == tc.dev.Name {
						fired = &tr
					}
				}
			}
			if fired == nil {
				t.Fatalf("did not fire within %d min", tc.max)
			}
			if tc.zh != "" && fired.Alert.Text[LangZh] != tc.zh {
				t.Errorf("zh text\n got %q\nwant %q", fired.Alert.Text[LangZh], tc.zh)
			}
			if tc.en != "" && fired.Alert.Text[LangEn] != tc.en {
				t.Errorf("en text\n got %q\nwant %q", fired.Alert.Text[LangEn], tc.en)
			}
			for _, lang := range []string{LangZh, LangEn} {
				if s := fired.Alert.Text[lang]; strings.Contains(s, "<no value>") || strings.Contains(s, "  ") {
					t.Errorf("%s text %q looks broken", lang, s)
				}
			}
		})
	}
	rs, _ := Default()
	for _, r := range rs {
		if !tested[r.Name] {
			t.Errorf("default rule %s has no firing example", r.Name)
		}
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

func TestResolvedText(t *testing.T) {
	rec := &recorder{}
	e, err := NewEngine(defaultOnly(t, "ups-on-battery", "room-temperature-high"), testInventory(), rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	e.Eval(t0, set(upsDev, t0, boolv("on_battery", true), num("runtime_min", 42)))
	e.Eval(t0.Add(time.Minute), set(upsDev, t0, boolv("on_battery", false), num("runtime_min", 40)))
	for m := 0; m <= 6; m++ {
		now := t0.Add(time.Duration(m) * time.Minute)
		e.Eval(now, set(envDev, now, num("temperature_c", 29)))
	}
	e.Eval(t0.Add(7*time.Minute), set(envDev, t0, num("temperature_c", 25.5)))
	var got []string
	for _, tr := range rec.take() {
		got = append(got, fmt.Sprintf("%v→%v %s | %s", tr.From, tr.To, tr.Alert.Text[LangZh], tr.Alert.Text[LangEn]))
	}
	want := []string{
		"inactive→firing 【严重】一号机房 UPS1 市电中断，UPS 由电池供电，剩余 42 分钟 | [CRITICAL] Room 1 UPS1 mains lost, on battery, 42 min left",
		"firing→inactive 【恢复】一号机房 UPS1 市电恢复，UPS 已转回市电供电 | [RESOLVED] Room 1 UPS1 mains restored, UPS back on mains",
		"pending→firing 【重要】一号机房 温度过高：29°C（温湿度1，阈值 27°C） | [MAJOR] Room 1 temperature high: 29 °C (T/H 1, limit 27 °C)",
		"firing→inactive 【恢复】一号机房 温度过高：25.5°C（温湿度1，阈值 27°C） | [RESOLVED] Room 1 temperature high: 25.5 °C (T/H 1, limit 27 °C)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
