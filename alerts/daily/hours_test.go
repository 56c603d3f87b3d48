package daily

import (
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
)

// TestHourlySlots: the samples of a Shanghai day fill the hours of the
// local clock they fall in; an hour with only faulty readings stays empty,
// and the samples around midnight go to their own day's record.
func TestHourlySlots(t *testing.T) {
	r := newRec(t)
	temp := func(v float64) collectors.Value { return num("temperature_c", "°C", v) }
	for _, s := range []collectors.SampleSet{
		set(th1, at(-1, 23, 59, 30), temp(40)),     // the day before, its hour 23
		set(th1, at(0, 0, 0, 0), temp(20)),         // hour 0 begins at midnight
		set(th1, at(0, 0, 30, 0), temp(21)),        //
		set(th1, at(0, 0, 59, 59), temp(25)),       // still hour 0
		set(th1, at(0, 1, 0, 0), temp(30)),         // hour 1, out of 18–27
		set(th1, at(0, 2, 0, 0), fault(temp(0))),   // hour 2: faults only
		set(th1, at(0, 2, 59, 59), fault(temp(0))), //
		set(th1, at(0, 3, 0, 0), temp(22)),         // hour 3
		set(th1, at(0, 23, 59, 59), temp(23)),      // hour 23
		set(th1, at(1, 0, 0, 0), temp(19)),         // the next day, its hour 0
	} {
		r.Observe(s)
	}
	rec := snap(t, r, "2026-11-25")
	hs := rec.Devices["th1"].Analog["temperature_c"].Hours
	if len(hs) != 24 {
		t.Fatalf("%d hours, want 24", len(hs))
	}
	want := map[int]Hour{
		0:  {Count: 3, Sum: 66, Min: 20, Max: 25, Mean: 22, Last: 25},
		1:  {Count: 1, Sum: 30, Min: 30, Max: 30, Mean: 30, Last: 30},
		3:  {Count: 1, Sum: 22, Min: 22, Max: 22, Mean: 22, Last: 22},
		23: {Count: 1, Sum: 23, Min: 23, Max: 23, Mean: 23, Last: 23},
	}
	for h, x := range hs {
		w, ok := want[h]
		switch {
		case !ok && x != nil:
			t.Errorf("hour %d: %+v, want none", h, *x)
		case ok && x == nil:
			t.Errorf("hour %d: none, want %+v", h, w)
		case ok && *x != w:
			t.Errorf("hour %d: %+v, want %+v", h, *x, w)
		}
	}
	for date, v := range map[string]float64{"2026-11-24": 40, "2026-11-26": 19} {
		other := snap(t, r, date).Devices["th1"].Analog["temperature_c"].Hours
		h := 0
		if v == 40 {
			h = 23
		}
		for i, x := range other {
			if (i == h) != (x != nil) || (x != nil && (x.Count != 1 || x.Last != v)) {
				t.Errorf("%s hour %d: %+v", date, i, x)
			}
		}
	}
}

// TestHoursJSON: the hours are written as 24 slots, null where empty,
// means to 0.01; a record written before hours existed reads without them.
func TestHoursJSON(t *testing.T) {
	r := newRec(t)
	for i, v := range []float64{20, 21, 21} {
		r.Observe(set(th1, at(0, 5, i, 0), num("temperature_c", "°C", v)))
	}
	rec := snap(t, r, "2026-11-25")
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, `"hours":[null,null,null,null,null,{"count":3,"sum":62,"min":20,"max":21,"mean":20.67,"last":21},null,`) {
		t.Errorf("hours not as documented: %s", s)
	}
	old := strings.Replace(s, s[strings.Index(s, `,"hours":`):strings.Index(s, `]}}`)+1], "", 1)
	if strings.Contains(old, `"hours":`) {
		t.Fatalf("test did not strip the hours: %s", old)
	}
	back, err := Unmarshal([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if a := back.Devices["th1"].Analog["temperature_c"]; a.Hours != nil || a.Count != 3 {
		t.Errorf("older record read as %+v", a)
	}
}

// TestHoursContinued: a record read back from JSON (a restart continuing
// the day) keeps its hours when new readings come, later ones and an
// earlier one.
func TestHoursContinued(t *testing.T) {
	r := newRec(t)
	r.Observe(set(th1, at(0, 5, 0, 0), num("temperature_c", "°C", 20)))
	r.Observe(set(th1, at(0, 6, 0, 0), num("temperature_c", "°C", 22)))
	back := snap(t, r, "2026-11-25")
	a := back.Devices["th1"].Analog["temperature_c"]
	a.add(6, 24)
	a.add(7, 25)
	a.add(3, 19) // an hour before the first: the clock went back
	got := back.Devices["th1"].Analog["temperature_c"].hourList()
	for h, want := range map[int]*Hour{
		3: {Count: 1, Sum: 19, Min: 19, Max: 19, Mean: 19, Last: 19},
		4: nil,
		5: {Count: 1, Sum: 20, Min: 20, Max: 20, Mean: 20, Last: 20},
		6: {Count: 2, Sum: 46, Min: 22, Max: 24, Mean: 23, Last: 24},
		7: {Count: 1, Sum: 25, Min: 25, Max: 25, Mean: 25, Last: 25},
		8: nil,
	} {
		if (got[h] == nil) != (want == nil) || (want != nil && *got[h] != *want) {
			t.Errorf("hour %d: %+v, want %+v", h, got[h], want)
		}
	}
	if a.Hours != nil {
		t.Error("Hours kept beside the counted hours")
	}
}
