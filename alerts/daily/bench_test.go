package daily

import (
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// BenchmarkObserve is the cost of folding one UPS sample set of 12 values
// into the daily record (the recorder sits on the collectors' path).
//
//	go test -run '^$' -bench BenchmarkObserve ./alerts/daily/
func BenchmarkObserve(b *testing.B) {
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	vals := []collectors.Value{
		flag("on_battery", false), num("runtime_min", "min", 400), num("charge_pct", "%", 100),
		num("battery_voltage_v", "V", 54), num("battery_temp_c", "°C", 25), num("input_voltage_v", "V", 220),
		num("output_voltage_v", "V", 220), num("load_pct", "%", 40), num("temperature_c", "°C", 23),
		num("humidity_pct", "%", 50), flag("door_open", false), flag("smoke", false),
	}
	start := at(0, 0, 0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Observe(set(ups1, start.Add(time.Duration(i)*time.Second), vals...))
	}
}
