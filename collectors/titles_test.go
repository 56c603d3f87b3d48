package collectors

import (
	"regexp"
	"testing"
)

func TestValueTitle(t *testing.T) {
	for _, tc := range []struct{ name, zh, en string }{
		{"temperature_c", "温度", "temperature"},
		{"input_voltage_v_l2", "输入电压 L2", "input voltage L2"},
		{"battery_temp_c", "电池温度", "battery temperature"},
		{"inlet_temperature_c", "进风温度", "inlet temperature"},
		{"output_current_a_3", "输出电流 3", "output current 3"},
		{"compressor_pressure_kpa", "compressor pressure kpa", "compressor pressure kpa"},
		{"fan2_speed_rpm", "fan2 speed rpm", "fan2 speed rpm"},
		{"x", "x", "x"},
	} {
		got := ValueTitle(tc.name)
		if got.Zh != tc.zh || got.En != tc.en {
			t.Errorf("%s: %+v, want %q %q", tc.name, got, tc.zh, tc.en)
		}
	}
}

// TestValueTitlesHaveNoIdentifiers: no built-in or fallback title is a
// snake_case identifier.
func TestValueTitlesHaveNoIdentifiers(t *testing.T) {
	ident := regexp.MustCompile(`[A-Za-z0-9]_[A-Za-z0-9]`)
	for name := range valueTitles {
		for _, n := range []string{name, name + "_l3", "ambient_" + name} {
			if got := ValueTitle(n); ident.MatchString(got.Zh) || ident.MatchString(got.En) || got.Zh == "" || got.En == "" {
				t.Errorf("%s: %+v", n, got)
			}
		}
	}
}

func TestTitleIn(t *testing.T) {
	if got := (Title{Zh: "温度"}).In("en"); got != "温度" {
		t.Errorf("en falls back to zh: %q", got)
	}
	if got := (Title{En: "door"}).In("zh"); got != "door" {
		t.Errorf("zh falls back to en: %q", got)
	}
	if got := StateTitle("low").In("zh"); got != "电量低" {
		t.Errorf("state low: %q", got)
	}
}
