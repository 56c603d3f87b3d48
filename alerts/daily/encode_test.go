package daily

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
)

// fullRecord returns a record with every field of every type in it set,
// including strings that JSON escapes.
func fullRecord() *Record {
	t := at(0, 9, 30, 15).Add(123456789)
	tp := func(d time.Duration) *time.Time { x := t.Add(d); return &x }
	odd := "a<b>&c\"d\\e\nf\tg\rh\bi\fj\x01k\u2028l\u2029m\xffn 温度 ✓"
	hour := func(v float64) *Hour {
		return &Hour{Count: 3, Sum: 3 * v, Min: v - 1, Max: v + 1, Mean: v + 1.0/3, Last: v}
	}
	rec := newRecord("main", "room"+odd, at(0, 0, 0, 0), shanghai)
	rec.UpdatedAt = t
	rec.Devices["ups1"+odd] = &DeviceDay{
		Profile: "rfc1628-ups", Class: "ups", Polls: 100, PollsOK: 97, CommsLostS: 29.6,
		FirstPollAt: t, LastPollAt: t.Add(time.Hour), LastOKAt: tp(time.Minute), Reachable: true,
		Analog: map[string]*Analog{
			"temperature_c": {Unit: "°C", Count: 97, Sum: 2301.7, Min: 1e-7, Max: 1e21, Last: -0.000001,
				MinAt: t, MaxAt: t.Add(time.Second), LastAt: t.Add(2 * time.Second), Faults: 2,
				Range: &Range{Min: ptr(18), Max: ptr(27)}, OutOfRangeS: 600.4, Excursions: 1,
				Hours: []*Hour{nil, hour(23.25), nil, hour(1.5e-8)}},
			"load_pct":   {Count: 1, Sum: 35, Min: 35, Max: 35, Last: 35, Range: &Range{Max: ptr(80)}},
			"charge_pct": {Range: &Range{Min: ptr(50)}},
		},
		Discrete: map[string]*Discrete{
			"smoke":           {Worst: StateAlarm, Last: StateOK, AlarmCount: 2, FirstAlarmAt: tp(3 * time.Minute), AlarmS: 12.5},
			"spd_fault" + odd: {Worst: StateOK, Last: StateOK},
		},
		Door: &Door{Openings: 4, AfterHours: 1, OpenS: 840.49, LastOpenedAt: tp(4 * time.Minute), Open: true},
		Mains: &Mains{Episodes: []Episode{
			{Start: t, End: tp(5 * time.Minute), DurationS: 300.2, Continued: true, Continues: true},
			{Start: t.Add(time.Hour), DurationS: 1},
		}, BatteryS: 301.5, OnBattery: true},
		Last: []collectors.Value{
			{Name: "temperature_c", Unit: "°C", Kind: collectors.Number, Num: 23.1, Quality: collectors.Good},
			{Name: "battery_status", Kind: collectors.Enum, Num: 2, Str: "normal" + odd, Quality: collectors.SensorFault, Err: "oid 1.3" + odd},
			{Name: "x", Kind: collectors.Kind(9), Quality: collectors.Quality(7)},
		},
	}
	rec.Devices["th1"] = &DeviceDay{Polls: 1, PollsOK: 1, Mains: &Mains{}}
	rec.Alarms = []AlarmEntry{{
		ID: "a1", Fingerprint: "f1", Rule: "ups-on-battery", Severity: "critical", State: alerts.Resolved,
		Device: "ups1", StartedAt: t, EndedAt: tp(time.Hour), AckBy: "张三" + odd, AckAt: tp(time.Minute),
		AckVia: "sms", AckNote: "note" + odd, Text: map[string]string{"zh": "市电中断" + odd, "en": "mains lost"},
		Told: []Told{{Delivery: "d1", Kind: "firing", Level: 1, Person: "李四", Channel: "sms-modem", Result: "delivered", Attempt: 2, At: t},
			{Delivery: "d2", Kind: "resolved", Channel: "wecom", Result: "sent", Attempt: 1, At: t}},
	}, {ID: "a2", State: alerts.Firing, StartedAt: t}}
	return rec
}

// TestEncodeLikeEncodingJSON: the hand-written encoder writes what
// encoding/json writes through the struct tags and MarshalJSON methods,
// for a record with every field set and for a recorded day.
func TestEncodeLikeEncodingJSON(t *testing.T) {
	full := fullRecord()
	full.summarize()
	if zero := zeroFields(reflect.ValueOf(full).Elem(), "Record"); len(zero) > 0 {
		t.Fatalf("fullRecord leaves fields unset, so the test cannot check them: %s", strings.Join(zero, ", "))
	}
	empty := newRecord("main", "room1", at(0, 0, 0, 0), shanghai)
	r := newRec(t)
	for i := range 100 {
		r.Observe(set(ups1, at(0, 9+i/40, i%40, 0), flag("on_battery", i%10 == 3), num("temperature_c", "°C", 20+float64(i%9)),
			flag("door_open", i%7 == 0), flag("smoke", i%11 == 0), fault(num("humidity_pct", "%", 1))))
	}
	// As the recorder keeps it (hours counted apart) and as read back.
	counting := r.records[recKey{"main", "room1", "2026-11-25"}]
	readBack := snap(t, r, "2026-11-25")
	if counting.Devices["ups1"].Analog["temperature_c"].hours == nil || readBack.Devices["ups1"].Analog["temperature_c"].Hours == nil {
		t.Fatal("the recorded day does not have its hours in both forms")
	}
	for name, rec := range map[string]*Record{"full": full, "empty": empty, "counting": counting, "read back": readBack} {
		got, err := rec.Marshal()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", name, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestEncodeRejectsNaN: a number JSON cannot carry is an error, as with
// encoding/json.
func TestEncodeRejectsNaN(t *testing.T) {
	rec := fullRecord()
	rec.Devices["th1"].CommsLostS = nan()
	if _, err := rec.Marshal(); err == nil {
		t.Error("NaN encoded without error")
	}
}

func nan() float64 { var z float64; return z / z }

// zeroFields lists the struct fields under v (following pointers, slices
// and maps) that hold their zero value wherever they occur.
func zeroFields(v reflect.Value, path string) []string {
	seen, set := map[string]bool{}, map[string]bool{}
	walkFields(v, path, seen, set)
	var out []string
	for p := range seen {
		if !set[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func walkFields(v reflect.Value, path string, seen, set map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkFields(v.Elem(), path, seen, set)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkFields(v.Index(i), path+"[]", seen, set)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkFields(it.Value(), path+"{}", seen, set)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := path + "." + f.Name
			seen[p] = true
			if !v.Field(i).IsZero() {
				set[p] = true
			}
			walkFields(v.Field(i), p, seen, set)
		}
	}
}
