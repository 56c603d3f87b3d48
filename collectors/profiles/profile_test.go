package profiles

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
)

func TestBuiltinProfilesLoad(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rfc1628-ups", "apc-ups", "apc-env", "modbus-th", "modbus-di", "modbus-ups"} {
		p, ok := set[name]
		if !ok {
			t.Errorf("built-in profile %s missing", name)
			continue
		}
		if p.Source == "" || p.Class == "" {
			t.Errorf("%s: source and class must say where the map comes from and what it is", name)
		}
		for _, f := range p.Fields {
			if f.Sim == "" {
				t.Errorf("%s: value %s has no sim: default", name, f.Name)
			}
		}
	}
}

func TestParseErrorsNameFileLineField(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "name: x\nclass: env\nprotocol: modbus\nvalues:\n  - name: t\n    regster: 3\n",
			`x.yaml:6: values[0]: unknown field "regster"`},
		{"bad type", "name: x\nclass: env\nprotocol: modbus\nvalues:\n  - name: t\n    table: input\n    type: float\n",
			`x.yaml:7: values[0].type: "float": want int16`},
		{"bool on registers", "name: x\nclass: di\nprotocol: modbus\nvalues:\n  - name: d\n    table: holding\n    type: bool\n",
			`x.yaml:7: values[0].type: "bool" does not fit table "holding"`},
		{"mib name", "name: x\nclass: ups\nprotocol: snmp\nvalues:\n  - name: r\n    oid: upsEstimatedMinutesRemaining.0\n    type: integer\n",
			"x.yaml:6: values[0].oid:"},
		{"duplicate", "name: x\nclass: env\nprotocol: snmp\nvalues:\n  - {name: t, oid: 1.3.6.1.1, type: integer}\n  - {name: t, oid: 1.3.6.1.2, type: integer}\n",
			`x.yaml:6: values[1].name: "t" appears twice`},
		{"bad protocol", "name: x\nclass: env\nprotocol: bacnet\nvalues: []\n",
			`x.yaml:3: protocol: "bacnet": want snmp, modbus or nut`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestUserProfileDirectory(t *testing.T) {
	dir := t.TempDir()
	user := "name: my-th\nclass: env\nprotocol: modbus\nsource: vendor manual p. 12\nvalues:\n  - {name: temperature_c, unit: °C, table: holding, address: 256, type: int16, scale: 0.01}\n"
	if err := os.WriteFile(filepath.Join(dir, "my-th.yaml"), []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set["my-th"]; !ok {
		t.Fatal("user profile not loaded")
	}
	if _, ok := set["rfc1628-ups"]; !ok {
		t.Fatal("built-in profiles lost when a user directory is given")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Fatalf("a broken user profile: err = %v, want one naming the file", err)
	}
}

func TestConvert(t *testing.T) {
	lo, hi := -40.0, 125.0
	temp := Field{Name: "temperature_c", Unit: "°C", Scale: 0.1, Sentinels: []float64{32767}, Min: &lo, Max: &hi}
	onBattery := Field{Name: "on_battery", True: []int64{5}}
	status := Field{Name: "battery_status", Enum: map[int64]string{2: "normal", 3: "low"}}
	door := Field{Name: "door_open", Type: "bool"}
	cases := []struct {
		name    string
		f       *Field
		raw     float64
		invert  bool
		want    any
		quality collectors.Quality
	}{
		{"scaled", &temp, 253, false, 25.3, collectors.Good},
		{"sentinel is a sensor fault, not 3276.7 °C", &temp, 32767, false, nil, collectors.SensorFault},
		{"out of range", &temp, 2000, false, nil, collectors.SensorFault},
		{"enum to bool true", &onBattery, 5, false, true, collectors.Good},
		{"enum to bool false", &onBattery, 3, false, false, collectors.Good},
		{"enum label", &status, 3, false, "low", collectors.Good},
		{"unknown enum code", &status, 9, false, nil, collectors.SensorFault},
		{"normally-closed contact inverted", &door, 1, true, false, collectors.Good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.f.Convert(c.raw, c.invert, "input register 1")
			if v.Quality != c.quality {
				t.Fatalf("quality = %v (%s), want %v", v.Quality, v.Err, c.quality)
			}
			if c.quality != collectors.Good {
				if !strings.Contains(v.Err, "input register 1") {
					t.Errorf("Err %q does not name the register", v.Err)
				}
				return
			}
			got := v.Any()
			if f, ok := got.(float64); ok && math.Abs(f-c.want.(float64)) < 1e-9 {
				return
			}
			if got != c.want {
				t.Errorf("value = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRawInvertsConvert(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set {
		for i := range p.Fields {
			f := &p.Fields[i]
			if f.Kind() == collectors.Text {
				continue
			}
			v, err := f.Parse(f.Sim)
			if err != nil {
				t.Fatalf("%s.%s: sim %q: %v", p.Name, f.Name, f.Sim, err)
			}
			raw, err := f.Raw(v, false)
			if err != nil {
				t.Fatalf("%s.%s: %v", p.Name, f.Name, err)
			}
			back := f.Convert(raw, false, "sim")
			if back.Quality != collectors.Good {
				t.Errorf("%s.%s: sim default %q is not a good value: %s", p.Name, f.Name, f.Sim, back.Err)
				continue
			}
			if got := back.Any(); got != v {
				if g, ok := got.(float64); !ok || math.Abs(g-v.(float64)) > 1e-6 {
					t.Errorf("%s.%s: %v → raw %v → %v", p.Name, f.Name, v, raw, got)
				}
			}
		}
	}
}

// TestBuiltinValuesHaveTitles: every value of every built-in profile
// names itself in Chinese and English in its file (title:), so an alarm
// text never falls back to a guess for them.
func TestBuiltinValuesHaveTitles(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range set.Names() {
		p := set[name]
		data, err := builtin.ReadFile(p.File)
		if err != nil {
			t.Fatal(err)
		}
		if n, want := strings.Count(string(data), "\n    title: {zh: "), len(p.Fields); n != want {
			t.Errorf("%s: %d of %d values have a title: {zh: …, en: …}", p.File, n, want)
		}
		for _, f := range p.Fields {
			if f.Title.Zh == "" || f.Title.En == "" || strings.Contains(f.Title.Zh, "_") {
				t.Errorf("%s: value %s: title %+v", p.File, f.Name, f.Title)
			}
		}
	}
}

// TestTitleFallback: a user profile may leave titles out, or one
// language of one; the rest comes from collectors.ValueTitle. A walked
// column's rows are named by the column.
func TestTitleFallback(t *testing.T) {
	p, err := Parse("my.yaml", []byte(`name: my-env
class: env
protocol: snmp
values:
  - {name: temperature_c, oid: 1.3.6.1.4.1.9.1.0, type: integer}
  - {name: inlet_temp_c, title: {zh: 进风口温度}, oid: 1.3.6.1.4.1.9.2.0, type: integer}
  - {name: input_voltage_v, title: {zh: 市电电压, en: mains voltage}, oid: 1.3.6.1.4.1.9.3, type: integer, walk: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	set := Set{p.Name: p}
	for _, tc := range []struct {
		name string
		want collectors.Title
	}{
		{"temperature_c", collectors.Title{Zh: "温度", En: "temperature"}},
		{"inlet_temp_c", collectors.Title{Zh: "进风口温度", En: "inlet temperature"}},
		{"input_voltage_v_l3", collectors.Title{Zh: "市电电压 L3", En: "mains voltage L3"}},
		{"humidity_pct", collectors.Title{Zh: "湿度", En: "humidity"}},
		{"temperature_c_rack_3_top", collectors.Title{Zh: "温度 rack 3 top", En: "temperature rack 3 top"}},
		{"temperature_c_机柜a", collectors.Title{Zh: "温度 机柜a", En: "temperature 机柜a"}},
		{"temperature_c_1_1", collectors.Title{Zh: "温度 1.1", En: "temperature 1.1"}},
	} {
		if got := set.ValueTitle("my-env", tc.name); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := set.ValueTitle("no-such-profile", "load_pct"); got.Zh != "输出负载" {
		t.Errorf("unknown profile: %+v", got)
	}
}
