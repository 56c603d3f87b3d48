package daily

import (
	"fmt"
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

// BenchmarkObserveUPS is the cost of folding one 12-value UPS sample set
// when 200 UPSes in 20 rooms are polled once a second in turn.
//
//	go test -run '^$' -bench BenchmarkObserveUPS -count 3 ./alerts/daily/
func BenchmarkObserveUPS(b *testing.B) {
	const devices = 200
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	sets := make([]collectors.SampleSet, devices)
	for d := range sets {
		dev := collectors.Device{Site: "main", Room: fmt.Sprintf("room%d", d/10), Name: fmt.Sprintf("ups%d", d),
			Profile: "rfc1628-ups", Class: "ups"}
		sets[d] = set(dev, time.Time{},
			flag("on_battery", false), num("runtime_min", "min", 420), num("charge_pct", "%", 100),
			collectors.Value{Name: "battery_status", Kind: collectors.Enum, Num: 2, Str: "normal"},
			num("battery_voltage_v", "V", 54.6), num("battery_temp_c", "°C", 25), num("seconds_on_battery", "s", 0),
			num("alarms_present", "", 0), num("input_voltage_v", "V", 230), num("output_voltage_v", "V", 230),
			num("load_pct", "%", 35), num("load_pct_l2", "%", 33))
	}
	now := at(0, 9, 0, 0)
	step := time.Second / devices
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := &sets[i%devices]
		now = now.Add(step)
		s.Time = now
		s.Values[10].Num = 35 + float64(i%7)/10
		r.Observe(*s)
	}
}
