package rules

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// benchSetup loads 10,000 rules across 1,000 devices (10 per device,
// matched by device name, a mix of kinds) plus the default set, and
// returns the engine and one sample set per device.
func benchSetup(b *testing.B, devices int) (*Engine, []collectors.SampleSet) {
	b.Helper()
	const perDevice = 10
	// In files of 500 devices: a configuration file is at most 1 MiB.
	var rs []Rule
	for from := 0; from < devices; from += 500 {
		var y strings.Builder
		y.WriteString("rules:\n")
		for d := from; d < min(from+500, devices); d++ {
			for r := 0; r < perDevice; r++ {
				fmt.Fprintf(&y, "  - name: r%d-%d\n    severity: major\n    match: {device: dev%d}\n", d, r, d)
				switch r % 5 {
				case 0:
					fmt.Fprintf(&y, "    band: {value: temperature_c, above: %d, clear: %d}\n", 40+r, 38+r)
				case 1:
					fmt.Fprintf(&y, "    condition: temperature_c > %d && humidity_pct < 90\n", 40+r)
				case 2:
					fmt.Fprintf(&y, "    condition: humidity_pct > %d || dew_point_c > 30\n    clear: humidity_pct < 50\n", 90+r)
				case 3:
					fmt.Fprintf(&y, "    rate: {value: temperature_c, window: 5m, above: %d}\n", 5+r)
				case 4:
					fmt.Fprintf(&y, "    condition: temperature_c < %d\n    for: 5m\n", -r)
				}
			}
		}
		part, err := Parse("bench.yaml", []byte(y.String()))
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, part...)
	}
	def, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	rs = append(rs, def...)
	inv := Inventory{Sites: []Site{{Name: "main"}}}
	sets := make([]collectors.SampleSet, devices)
	for d := 0; d < devices; d++ {
		room := fmt.Sprintf("r%d", d/10)
		if d%10 == 0 {
			inv.Sites[0].Rooms = append(inv.Sites[0].Rooms, Room{Name: room, CarryTime: 6 * time.Hour})
		}
		dev := collectors.Device{Site: "main", Room: room, Name: fmt.Sprintf("dev%d", d), Profile: "modbus-th", Class: "env"}
		rm := &inv.Sites[0].Rooms[len(inv.Sites[0].Rooms)-1]
		rm.Devices = append(rm.Devices, DeviceInfo{Device: dev, Interval: 10 * time.Second})
		sets[d] = set(dev, t0, num("temperature_c", 22.5), num("humidity_pct", 45))
	}
	e, err := NewEngine(rs, inv, func([]Transition) {})
	if err != nil {
		b.Fatal(err)
	}
	return e, sets
}

// BenchmarkEval: cost of evaluating one sample set with 10,000 rules
// loaded across 1,000 devices (10 of them plus the 11 default env rules
// match each device). The sub-benchmarks with 1,000 and 50,000 rules show
// that the cost does not grow with the total number of rules.
func BenchmarkEval(b *testing.B) {
	for _, devices := range []int{1000, 100, 5000} {
		b.Run(fmt.Sprintf("rules=%d/devices=%d", devices*10, devices), func(b *testing.B) {
			benchEval(b, devices)
		})
	}
}

func benchEval(b *testing.B, devices int) {
	e, sets := benchSetup(b, devices)
	now := t0
	for i, s := range sets { // warm: device entries and instances exist
		e.Eval(now.Add(time.Duration(i)), s)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &sets[i%len(sets)]
		now = now.Add(10 * time.Millisecond)
		s.Time = now
		s.Values[0].Num = 22.5 + float64(i%7)/10
		e.Eval(now, *s)
		i++
	}
}

// BenchmarkTick: one Tick over 1,000 inventory devices and their alerts.
func BenchmarkTick(b *testing.B) {
	e, sets := benchSetup(b, 1000)
	for i, s := range sets {
		e.Eval(t0.Add(time.Duration(i)), s)
	}
	b.ReportAllocs()
	now := t0
	for b.Loop() {
		now = now.Add(time.Second)
		e.Tick(now)
	}
}

// BenchmarkEvalFiring: a sample set that fires and resolves an alarm on
// every evaluation (rendering zh and en texts each time).
func BenchmarkEvalFiring(b *testing.B) {
	e, sets := benchSetup(b, 1000)
	s := sets[0]
	b.ReportAllocs()
	now := t0
	i := 0
	for b.Loop() {
		now = now.Add(time.Second)
		s.Values[0].Num = 22
		if i%2 == 0 {
			s.Values[0].Num = 45 // fires r0-0 (band above 40)
		}
		e.Eval(now, s)
		i++
	}
}

// upsFleet returns an engine with the default rules and an inventory of n
// rfc1628 UPSes in rooms of ten (6 h carry time), and one healthy
// 12-value sample set per UPS.
func upsFleet(b *testing.B, n int) (*Engine, []collectors.SampleSet) {
	b.Helper()
	rs, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	inv := Inventory{Sites: []Site{{Name: "main", Title: map[string]string{"zh": "总院", "en": "Main campus"}}}}
	sets := make([]collectors.SampleSet, n)
	for d := range n {
		room := fmt.Sprintf("r%d", d/10)
		if d%10 == 0 {
			inv.Sites[0].Rooms = append(inv.Sites[0].Rooms, Room{Name: room, CarryTime: 6 * time.Hour})
		}
		dev := collectors.Device{Site: "main", Room: room, Name: fmt.Sprintf("ups%d", d), Profile: "rfc1628-ups", Class: "ups"}
		rm := &inv.Sites[0].Rooms[len(inv.Sites[0].Rooms)-1]
		rm.Devices = append(rm.Devices, DeviceInfo{Device: dev, Interval: time.Second})
		sets[d] = set(dev, t0,
			boolv("on_battery", false), num("runtime_min", 420), num("charge_pct", 100),
			enum("battery_status", "normal"), num("battery_voltage_v", 54.6), num("battery_temp_c", 25),
			num("seconds_on_battery", 0), num("alarms_present", 0), num("input_voltage_v", 230),
			num("output_voltage_v", 230), num("load_pct", 35), num("load_pct_l2", 33))
	}
	e, err := NewEngine(rs, inv, func([]Transition) {})
	if err != nil {
		b.Fatal(err)
	}
	return e, sets
}

// BenchmarkEvalUPS: cost of evaluating one healthy 12-value UPS sample
// set with the default rules (11 of them match a UPS), polling 200 UPSes
// once a second in turn, as the monitor does. steady: the load and the
// input voltage change from poll to poll, as on a UPS on mains; changing:
// every number changes on every poll.
//
//	go test -run '^$' -bench BenchmarkEvalUPS -count 3 ./rules/
func BenchmarkEvalUPS(b *testing.B) {
	for _, tc := range []struct {
		name    string
		changes []int // indexes of the values that change
	}{
		{"values=steady", []int{8, 10}},
		{"values=changing", []int{1, 2, 4, 5, 8, 9, 10, 11}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchEvalUPS(b, tc.changes) })
	}
}

func benchEvalUPS(b *testing.B, changes []int) {
	const devices = 200
	e, sets := upsFleet(b, devices)
	step := time.Second / devices
	now := t0
	for i := range sets { // warm: device entries and instances exist
		now = now.Add(step)
		e.Eval(now, sets[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &sets[i%devices]
		now = now.Add(step)
		s.Time = now
		d := 0.1 // up on one poll of the device, down on the next
		if i/devices%2 == 1 {
			d = -0.1
		}
		for _, j := range changes {
			s.Values[j].Num += d
		}
		e.Eval(now, *s)
		i++
	}
}

// BenchmarkMemoryUPS reports the heap the engine holds per UPS once 200
// UPSes with the default rules have each reported (device entries,
// instances, expression environments), excluding the sample sets the
// benchmark itself holds.
//
//	go test -run '^$' -bench BenchmarkMemoryUPS ./rules/
func BenchmarkMemoryUPS(b *testing.B) {
	const devices = 200
	for b.Loop() {
		e, sets := upsFleet(b, devices)
		before := liveHeap()
		for i := range sets {
			e.Eval(t0.Add(time.Duration(i)*time.Millisecond), sets[i])
		}
		after := liveHeap()
		runtime.KeepAlive(e)
		b.ReportMetric(float64(after-before)/devices, "heap-B/device")
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
