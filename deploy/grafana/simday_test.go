package grafana

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// The simulated day: two rooms of one site, every device polled once a
// minute for 24 hours, with the events the dashboard must show.
const (
	simSite   = "hq"
	roomA     = "server-room"
	roomB     = "network-room"
	simPeriod = time.Minute
)

// simDay is the day simulated (Asia/Shanghai midnight to midnight).
var simDay = time.Date(2026, 11, 30, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// simDevice is one device of the day.
type simDevice struct {
	room, name, profile string
	labels              map[string]string
}

var simDevices = []simDevice{
	{roomA, "ups-1", "rfc1628-ups", map[string]string{"rack": "A01"}},
	{roomA, "th-1", "modbus-th", nil},
	{roomA, "th-2", "apc-env", map[string]string{"rack": "A03"}},
	{roomA, "di-1", "modbus-di", nil},
	{roomB, "ups-2", "apc-ups", nil},
	{roomB, "th-3", "modbus-th-holding", nil},
	{roomB, "di-2", "modbus-di", nil},
}

// devicesOf returns the devices of room whose measurement is m.
func devicesOf(t *testing.T, room, m string) map[string]bool {
	set := builtinProfiles(t)
	out := map[string]bool{}
	for _, d := range simDevices {
		if d.room == room && (m == mPoll || "roomwatch_"+set[d.profile].Class == m) {
			out[d.name] = true
		}
	}
	return out
}

func builtinProfiles(t *testing.T) profiles.Set {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// between reports whether the time of day of ts is in [from, to) hours.
func between(ts time.Time, from, to float64) bool {
	h := ts.Sub(simDay).Hours()
	return h >= from && h < to
}

// simValue is the value called name of device d at ts. Room A loses mains
// 02:00–02:40, runs hot 14:00–15:00 and humid 05:00–06:00, its door is
// open 09:00–09:05; room B loses mains 03:00–03:10 and has a leak
// 11:00–11:02.
func simValue(d simDevice, spec collectors.ValueSpec, ts time.Time) collectors.Value {
	v := collectors.Value{Name: spec.Name, Unit: spec.Unit, Kind: spec.Kind}
	h := ts.Sub(simDay).Hours()
	wave := math.Sin(2 * math.Pi * (h - 9) / 24)
	outageFrom, outageTo := 2.0, 2.0+40.0/60
	if d.room == roomB {
		outageFrom, outageTo = 3, 3+10.0/60
	}
	onBattery := between(ts, outageFrom, outageTo)
	batteryMin := 0.0
	if onBattery {
		batteryMin = (h - outageFrom) * 60
	}
	num := func(x float64) collectors.Value { v.Num = x; return v }
	flag := func(b bool) collectors.Value {
		if b {
			v.Num = 1
		}
		return v
	}
	switch spec.Name {
	case "on_battery":
		return flag(onBattery)
	case "runtime_min":
		return num(90 - 1.5*batteryMin)
	case "charge_pct":
		return num(100 - batteryMin)
	case "seconds_on_battery":
		return num(batteryMin * 60)
	case "load_pct":
		return num(40 + 5*wave)
	case "battery_status":
		v.Str, v.Num = "normal", 2
		if batteryMin > 30 {
			v.Str, v.Num = "low", 3
		}
		return v
	case "input_voltage_v":
		if onBattery {
			return num(0)
		}
		return num(221 + 2*wave)
	case "output_voltage_v":
		return num(220)
	case "battery_voltage_v":
		return num(54.2)
	case "battery_temp_c":
		return num(25 + wave)
	case "input_frequency_hz", "output_frequency_hz":
		return num(50)
	case "temperature_c":
		if d.room == roomA && between(ts, 14, 15) {
			return num(28.5)
		}
		if d.name == "th-1" && between(ts, 16, 16.05) {
			v.Quality, v.Err = collectors.SensorFault, "input register 1: 0x7FFF (sensor disconnected)"
			return v
		}
		return num(23 + 2*wave)
	case "humidity_pct":
		if d.room == roomA && between(ts, 5, 6) {
			return num(63)
		}
		return num(45 + 5*wave)
	case "door_open":
		return flag(d.room == roomA && between(ts, 9, 9+5.0/60))
	case "water_leak":
		return flag(d.room == roomB && between(ts, 11, 11+2.0/60))
	}
	switch spec.Kind { // the rest (spd_fault, smoke, alarms_present…): quiet
	case collectors.Enum:
		v.Str = "unknown"
	case collectors.Text:
		v.Str = "-"
	}
	return v
}

// simTimes are the poll times of the day.
func simTimes() []time.Time {
	var out []time.Time
	for ts := simDay; ts.Before(simDay.Add(24 * time.Hour)); ts = ts.Add(simPeriod) {
		out = append(out, ts)
	}
	return out
}

// unreachable reports whether device d does not answer at ts: room A's
// DI module 12:00–12:10, room B's UPS 20:00–20:05.
func unreachable(d simDevice, ts time.Time) bool {
	return (d.name == "di-1" && between(ts, 12, 12+10.0/60)) || (d.name == "ups-2" && between(ts, 20, 20+5.0/60))
}

// writeSimDay writes the day into s through roomwatch's own line
// protocol encoding (collectors/influx), so field names, tags and types
// are the schema's and cannot drift from it.
func writeSimDay(t *testing.T, s *influxtest.Server) {
	t.Helper()
	set := builtinProfiles(t)
	var buf []byte
	for _, d := range simDevices {
		p := set[d.profile]
		if p == nil {
			t.Fatalf("profile %s: not built in", d.profile)
		}
		dev := collectors.Device{Site: simSite, Room: d.room, Name: d.name, Profile: p.Name, Class: p.Class, Labels: d.labels}
		specs := p.Specs()
		for _, ts := range simTimes() {
			var ss collectors.SampleSet
			if unreachable(d, ts) {
				ss = collectors.Failed(dev, ts, 2*time.Second, specs, errors.New("i/o timeout"))
			} else {
				ss = collectors.SampleSet{Device: dev, Time: ts, Duration: 40 * time.Millisecond}
				for _, sp := range specs {
					ss.Values = append(ss.Values, simValue(d, sp, ts))
				}
			}
			buf = influx.AppendLines(buf, ss)
		}
	}
	resp, err := http.Post(s.URL()+"/write?db="+influxtest.Database+"&precision=ns", "text/plain", bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write the simulated day: HTTP %d", resp.StatusCode)
	}
	n, err := s.Count(mPoll, "duration_s")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(simDevices) * int(24*time.Hour/simPeriod)); n != want {
		t.Fatalf("roomwatch_poll holds %d polls, want %d", n, want)
	}
	t.Logf("simulated day: %d bytes of line protocol, %d polls", len(buf), n)
}
