package daily

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at returns 2026-11-25 (plus days) hh:mm:ss in Shanghai.
func at(days, h, m, s int) time.Time {
	return time.Date(2026, 11, 25+days, h, m, s, 0, shanghai)
}

var (
	th1  = collectors.Device{Site: "main", Room: "room1", Name: "th1", Profile: "modbus-th", Class: "env"}
	di1  = collectors.Device{Site: "main", Room: "room1", Name: "di1", Profile: "modbus-di", Class: "di"}
	ups1 = collectors.Device{Site: "main", Room: "room1", Name: "ups1", Profile: "rfc1628-ups", Class: "ups"}
)

func num(name, unit string, v float64) collectors.Value {
	return collectors.Value{Name: name, Unit: unit, Kind: collectors.Number, Num: v}
}

func flag(name string, on bool) collectors.Value {
	v := collectors.Value{Name: name, Kind: collectors.Bool}
	if on {
		v.Num = 1
	}
	return v
}

func fault(v collectors.Value) collectors.Value {
	v.Quality, v.Num, v.Err = collectors.SensorFault, 0, "register 1: sentinel 0x7FFF"
	return v
}

func set(d collectors.Device, t time.Time, vs ...collectors.Value) collectors.SampleSet {
	return collectors.SampleSet{Device: d, Time: t, Values: vs}
}

func failed(d collectors.Device, t time.Time) collectors.SampleSet {
	return collectors.Failed(d, t, time.Second, []collectors.ValueSpec{{Name: "temperature_c", Unit: "°C"}}, errors.New("i/o timeout"))
}

// workHours is 08:00–18:00 local.
func workHours(t time.Time) bool {
	h := t.In(shanghai).Hour()
	return h >= 8 && h < 18
}

func newRec(t *testing.T) *Recorder {
	t.Helper()
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func snap(t *testing.T, r *Recorder, date string) *Record {
	t.Helper()
	rec, ok := r.Snapshot("main", "room1", date)
	if !ok {
		t.Fatalf("no record for %s", date)
	}
	return rec
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAnalogStatsAndTimeOutOfRange(t *testing.T) {
	r := newRec(t)
	temp := func(v float64) collectors.Value { return num("temperature_c", "°C", v) }
	hum := num("humidity_pct", "%", 45)
	for _, s := range []collectors.SampleSet{
		set(th1, at(0, 8, 0, 0), temp(22), hum),
		set(th1, at(0, 8, 1, 0), temp(28), hum),       // leaves 18–27
		set(th1, at(0, 8, 2, 0), temp(29), hum),       // still out: 60 s so far
		set(th1, at(0, 8, 3, 0), fault(temp(0)), hum), // out until here: 120 s
		set(th1, at(0, 8, 4, 0), temp(24), hum),       // a fault interval counts nothing
		set(th1, at(0, 8, 5, 0), temp(17), hum),       // below: second excursion
		set(th1, at(0, 8, 15, 0), temp(20), hum),      // 10 min gap > max_gap: not counted
		set(th1, at(0, 8, 10, 0), temp(99), hum),      // older than the last: ignored
	} {
		r.Observe(s)
	}
	rec := snap(t, r, "2026-11-25")
	a := rec.Devices["th1"].Analog["temperature_c"]
	if a == nil {
		t.Fatal("no temperature stats")
	}
	if a.Count != 6 || a.Min != 17 || a.Max != 29 || math.Abs(a.Mean-(22+28+29+24+17+20)/6.0) > 0.005 /* written to 0.01 */ || a.Last != 20 || a.Faults != 1 {
		t.Errorf("stats %+v", a)
	}
	if !a.MaxAt.Equal(at(0, 8, 2, 0)) || !a.MinAt.Equal(at(0, 8, 5, 0)) {
		t.Errorf("min at %v, max at %v", a.MinAt, a.MaxAt)
	}
	if a.OutOfRangeS != 120 || a.Excursions != 2 {
		t.Errorf("out of range %v s in %d excursions, want 120 s in 2", a.OutOfRangeS, a.Excursions)
	}
	if a.Range == nil || *a.Range.Min != 18 || *a.Range.Max != 27 || a.Unit != "°C" {
		t.Errorf("range %+v unit %q", a.Range, a.Unit)
	}
	if h := rec.Devices["th1"].Analog["humidity_pct"]; h.OutOfRangeS != 0 || h.Count != 7 {
		t.Errorf("humidity %+v", h)
	}
	if rec.Summary.OutOfRangeS != 120 {
		t.Errorf("summary out of range %v", rec.Summary.OutOfRangeS)
	}
}

func TestDoorOpenings(t *testing.T) {
	r := newRec(t)
	door := func(open bool) collectors.Value { return flag("door_open", open) }
	for _, s := range []collectors.SampleSet{
		set(di1, at(0, 6, 59, 0), door(true)), // first sight: open, not counted as an opening
		set(di1, at(0, 7, 0, 0), door(false)),
		set(di1, at(0, 7, 1, 0), door(true)), // after hours
		set(di1, at(0, 7, 2, 0), door(false)),
		set(di1, at(0, 9, 0, 0), door(true)), // working hours
		set(di1, at(0, 9, 1, 0), fault(door(false))),
		set(di1, at(0, 9, 2, 0), door(true)), // still open: no new opening
		set(di1, at(0, 9, 5, 0), door(false)),
		set(di1, at(0, 19, 30, 0), door(true)), // after hours
	} {
		r.Observe(s)
	}
	rec := snap(t, r, "2026-11-25")
	d := rec.Devices["di1"].Door
	if d.Openings != 3 || d.AfterHours != 2 || !d.Open || !d.LastOpenedAt.Equal(at(0, 19, 30, 0)) {
		t.Errorf("door %+v", d)
	}
	// open: 06:59–07:00 60 s, 07:01–07:02 60 s, 09:00–09:01 60 s,
	// 09:02–09:05 180 s (09:01–09:02 was a fault).
	if d.OpenS != 360 {
		t.Errorf("open %v s, want 360", d.OpenS)
	}
	if rec.Summary.DoorOpenings != 3 || rec.Summary.AfterHoursOpenings != 2 {
		t.Errorf("summary %+v", rec.Summary)
	}
	if _, ok := rec.Devices["di1"].Discrete["door_open"]; ok {
		t.Error("door_open listed as a discrete sensor")
	}
}

func TestMainsLossEpisodesAcrossMidnight(t *testing.T) {
	r := newRec(t)
	batt := func(on bool) collectors.Value { return flag("on_battery", on) }
	rt := num("runtime_min", "min", 400)
	for _, s := range []collectors.SampleSet{
		set(ups1, at(0, 10, 0, 0), batt(false), rt),
		set(ups1, at(0, 10, 1, 0), batt(true), rt),
		set(ups1, at(0, 10, 2, 0), batt(true), rt),
		set(ups1, at(0, 10, 4, 0), batt(false), rt),
		set(ups1, at(0, 23, 58, 0), batt(false), rt),
		set(ups1, at(0, 23, 59, 0), batt(true), rt),
		set(ups1, at(1, 0, 1, 0), batt(true), rt), // the next local day
		set(ups1, at(1, 0, 3, 0), batt(false), rt),
	} {
		r.Observe(s)
	}
	d1 := snap(t, r, "2026-11-25")
	m := d1.Devices["ups1"].Mains
	if len(m.Episodes) != 2 {
		t.Fatalf("day 1 episodes %+v", m.Episodes)
	}
	e1, e2 := m.Episodes[0], m.Episodes[1]
	if !e1.Start.Equal(at(0, 10, 1, 0)) || e1.End == nil || !e1.End.Equal(at(0, 10, 4, 0)) || e1.DurationS != 180 || e1.Continues {
		t.Errorf("episode 1 %+v", e1)
	}
	if !e2.Start.Equal(at(0, 23, 59, 0)) || e2.End == nil || !e2.End.Equal(at(1, 0, 0, 0)) || e2.DurationS != 60 || !e2.Continues {
		t.Errorf("episode 2 %+v", e2)
	}
	if m.BatteryS != 240 || d1.Summary.MainsLossEpisodes != 2 || d1.Summary.MainsLossS != 240 {
		t.Errorf("day 1 battery %v s, summary %+v", m.BatteryS, d1.Summary)
	}
	d2 := snap(t, r, "2026-11-26")
	if d2.From != at(1, 0, 0, 0) && !d2.From.Equal(at(1, 0, 0, 0)) {
		t.Errorf("day 2 from %v", d2.From)
	}
	m2 := d2.Devices["ups1"].Mains
	if len(m2.Episodes) != 1 || !m2.Episodes[0].Continued || !m2.Episodes[0].Start.Equal(at(1, 0, 0, 0)) ||
		m2.Episodes[0].End == nil || m2.Episodes[0].DurationS != 180 || m2.BatteryS != 180 || m2.OnBattery {
		t.Errorf("day 2 mains %+v", m2)
	}
	if d2.Summary.MainsLossEpisodes != 0 {
		t.Errorf("a continued episode counted as new: %+v", d2.Summary)
	}
	if rt := d2.Devices["ups1"].Analog["runtime_min"]; rt.Count != 2 {
		t.Errorf("day 2 runtime count %d, want 2", rt.Count)
	}
}

func TestOngoingEpisodeDuration(t *testing.T) {
	r := newRec(t)
	r.Observe(set(ups1, at(0, 10, 0, 0), flag("on_battery", false)))
	r.Observe(set(ups1, at(0, 10, 1, 0), flag("on_battery", true)))
	r.Observe(set(ups1, at(0, 10, 3, 30), flag("on_battery", true)))
	m := snap(t, r, "2026-11-25").Devices["ups1"].Mains
	if len(m.Episodes) != 1 || m.Episodes[0].End != nil || m.Episodes[0].DurationS != 150 || !m.OnBattery {
		t.Errorf("ongoing episode %+v", m)
	}
}

func TestAvailabilityAndDiscrete(t *testing.T) {
	r := newRec(t)
	temp := num("temperature_c", "°C", 23)
	for _, s := range []collectors.SampleSet{
		set(th1, at(0, 12, 0, 0), temp),
		failed(th1, at(0, 12, 1, 0)),
		failed(th1, at(0, 12, 2, 0)),
		set(th1, at(0, 12, 3, 0), temp),
		set(di1, at(0, 12, 0, 0), flag("smoke", false), flag("water_leak", false), flag("spd_fault", false)),
		set(di1, at(0, 12, 1, 0), flag("smoke", false), flag("water_leak", true), fault(flag("spd_fault", false))),
		set(di1, at(0, 12, 2, 0), flag("smoke", false), flag("water_leak", false), flag("spd_fault", false)),
		set(di1, at(0, 12, 3, 0), flag("smoke", false), flag("water_leak", true), flag("spd_fault", false)),
	} {
		r.Observe(s)
	}
	rec := snap(t, r, "2026-11-25")
	d := rec.Devices["th1"]
	if d.Polls != 4 || d.PollsOK != 2 || d.Availability != 0.5 || d.CommsLostS != 120 || !d.Reachable {
		t.Errorf("availability polls %d ok %d avail %v lost %v s reachable %v", d.Polls, d.PollsOK, d.Availability, d.CommsLostS, d.Reachable)
	}
	if a := d.Analog["temperature_c"]; a.Count != 2 || a.Faults != 0 {
		t.Errorf("a comms-lost value counted: %+v", a)
	}
	x := rec.Devices["di1"].Discrete
	if x["smoke"].Worst != StateOK || x["water_leak"].Worst != StateAlarm || x["water_leak"].AlarmCount != 2 ||
		x["water_leak"].AlarmS != 60 || !x["water_leak"].FirstAlarmAt.Equal(at(0, 12, 1, 0)) || x["spd_fault"].Worst != StateSensorFault {
		t.Errorf("discrete smoke %+v water %+v spd %+v", x["smoke"], x["water_leak"], x["spd_fault"])
	}
	if rec.Summary.Discrete["water_leak"] != StateAlarm || rec.Summary.MinAvailability != 0.5 || rec.Summary.CommsLostS != 120 {
		t.Errorf("summary %+v", rec.Summary)
	}
	if len(d.Last) != 1 || d.Last[0].Num != 23 {
		t.Errorf("last values %+v", d.Last)
	}
}

func TestRolloverAtLocalMidnight(t *testing.T) {
	r := newRec(t)
	hot := num("temperature_c", "°C", 30)
	// 23:59 local is 15:59 UTC: the day is the local one.
	r.Observe(set(th1, at(0, 23, 59, 0).UTC(), hot))
	r.Observe(set(th1, at(1, 0, 1, 0).UTC(), hot))
	r.Observe(set(di1, at(0, 23, 59, 30), flag("water_leak", true)))
	r.Observe(set(di1, at(1, 0, 0, 30), flag("water_leak", true)))
	d1, d2 := snap(t, r, "2026-11-25"), snap(t, r, "2026-11-26")
	if d1.Devices["th1"].Analog["temperature_c"].OutOfRangeS != 60 || d2.Devices["th1"].Analog["temperature_c"].OutOfRangeS != 60 {
		t.Errorf("out of range split: %v / %v, want 60 / 60",
			d1.Devices["th1"].Analog["temperature_c"].OutOfRangeS, d2.Devices["th1"].Analog["temperature_c"].OutOfRangeS)
	}
	if d1.Devices["th1"].Polls != 1 || d2.Devices["th1"].Polls != 1 {
		t.Errorf("polls %d / %d", d1.Devices["th1"].Polls, d2.Devices["th1"].Polls)
	}
	if !d2.From.Equal(at(1, 0, 0, 0)) || !d2.To.Equal(at(2, 0, 0, 0)) || d2.TZ != "Asia/Shanghai" {
		t.Errorf("day 2 bounds %v – %v %s", d2.From, d2.To, d2.TZ)
	}
	w := d2.Devices["di1"].Discrete["water_leak"]
	if w.Worst != StateAlarm || w.AlarmCount != 0 || w.AlarmS != 30 || !w.FirstAlarmAt.Equal(at(1, 0, 0, 0)) {
		t.Errorf("carried leak %+v", w)
	}
}

func TestObserveAlarm(t *testing.T) {
	r := newRec(t)
	fired := at(0, 9, 0, 0)
	a := &alerts.Alarm{Schema: alerts.Schema, V: alerts.V, Fingerprint: "fp1", Rule: "water-leak", Severity: alerts.Critical,
		State: alerts.Firing, Site: "main", Room: "room1", Device: "di1", StartedAt: fired, UpdatedAt: fired,
		Text: map[string]string{"zh": "漏水", "en": "water leak"}}
	a.ID = alerts.OccurrenceID(a.Fingerprint, fired)
	r.ObserveAlarm(a.Clone())
	ack := a.Clone()
	if err := ack.Acknowledge("张三", "", fired.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r.ObserveAlarm(ack)
	res := a.Clone()
	res.Resolve(at(1, 1, 0, 0)) // resolved after midnight
	r.ObserveAlarm(res)
	r.ObserveAlarm(a.Clone()) // a late firing message
	for _, date := range []string{"2026-11-25", "2026-11-26"} {
		rec := snap(t, r, date)
		if len(rec.Alarms) != 1 {
			t.Fatalf("%s: %d alarms", date, len(rec.Alarms))
		}
		e := rec.Alarms[0]
		if e.State != alerts.Resolved || e.AckBy != "张三" || e.AckAt == nil || e.EndedAt == nil || e.Rule != "water-leak" {
			t.Errorf("%s: entry %+v", date, e)
		}
		if rec.Summary.Alarms != 1 || rec.Summary.ActiveAlarms != 0 || rec.Summary.UnacknowledgedAlarm != 0 {
			t.Errorf("%s: summary %+v", date, rec.Summary)
		}
	}
}

func TestConfig(t *testing.T) {
	if _, err := NewRecorder(Config{TimeZone: "Mars/Olympus"}, nil, nil); err == nil || !strings.Contains(err.Error(), "daily.timezone") {
		t.Errorf("bad zone: %v", err)
	}
	lo, hi := 30.0, 20.0
	_, err := NewRecorder(Config{Ranges: map[string]Range{"temperature_c": {Min: &lo, Max: &hi}, "x": {}}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "daily.ranges.temperature_c: min 30 above max 20") || !strings.Contains(err.Error(), "daily.ranges.x") {
		t.Errorf("bad ranges: %v", err)
	}
	c := Config{Ranges: map[string]Range{"temperature_c": {Max: &lo}}}
	c.Defaults()
	if c.Ranges["temperature_c"].Min != nil || *c.Ranges["temperature_c"].Max != 30 || c.Ranges["humidity_pct"].Max == nil {
		t.Errorf("override: %+v", c.Ranges)
	}
	var errs yamlconf.Errors
	c.Validate(&errs, "daily")
	if errs.Err() != nil {
		t.Error(errs.Err())
	}
}
