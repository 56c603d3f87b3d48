package daily

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // the site's zone must load on hosts without tzdata

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Value names with a meaning of their own in the record.
const (
	DoorOpen  = "door_open"
	OnBattery = "on_battery"
)

type recKey struct{ site, room, date string }

// Recorder folds sample sets and alarms into daily records, one per room
// and local day. Observe and ObserveAlarm are cheap and never do I/O;
// Start/Stop (store.go) persist and publish the records.
type Recorder struct {
	cfg     Config
	loc     *time.Location
	working func(time.Time) bool
	log     *slog.Logger

	mu      sync.Mutex
	records map[recKey]*Record
	tracks  map[collectors.DeviceKey]*track
	// floor is the first date that may be written: days before it were
	// not loaded and must not be overwritten with partial records.
	floor string
	// gen counts the changes (records replaced or forgotten, floor
	// moved) that invalidate the tracks' cursors.
	gen uint64
	// today caches the local day of the latest samples.
	today day

	persist
}

// NewRecorder returns a Recorder. working reports whether a time is within
// working hours (door openings outside them are counted apart); nil means
// always.
func NewRecorder(cfg Config, working func(time.Time) bool, log *slog.Logger) (*Recorder, error) {
	cfg.Defaults()
	var errs yamlconf.Errors
	cfg.Validate(&errs, "daily")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("daily: time zone %q: %w", cfg.TimeZone, err)
	}
	if working == nil {
		working = func(time.Time) bool { return true }
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{
		cfg: cfg, loc: loc, working: working, log: log.With("component", "daily"),
		records: map[recKey]*Record{}, tracks: map[collectors.DeviceKey]*track{},
	}, nil
}

// record returns the record of site/room on t's day, creating it; nil if
// the day is before the floor.
func (r *Recorder) record(site, room string, t time.Time) *Record {
	return r.recordOn(site, room, r.dayOf(t), t)
}

// recordOn is record with t's day d.
func (r *Recorder) recordOn(site, room string, d day, t time.Time) *Record {
	k := recKey{site, room, d.date}
	if r.floor != "" && k.date < r.floor {
		return nil
	}
	rec := r.records[k]
	if rec == nil {
		rec = newRecord(site, room, d.start, r.loc)
		rec.mark(eventChange) // a new day's record shows at once
		r.records[k] = rec
	}
	rec.touch(t)
	return rec
}

// touch marks the record changed by something that happened at t; the
// caller marks an event (see change) itself.
func (rec *Record) touch(t time.Time) {
	rec.mark(statsChange)
	if t.After(rec.UpdatedAt) {
		rec.UpdatedAt = t
	}
}

func (rec *Record) device(d collectors.Device) *DeviceDay {
	dd := rec.Devices[d.Name]
	if dd == nil {
		dd = &DeviceDay{Profile: d.Profile, Class: d.Class}
		rec.Devices[d.Name] = dd
		rec.mark(eventChange)
	}
	return dd
}

// Observe folds one sample set into its room's record of its day.
func (r *Recorder) Observe(s collectors.SampleSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := s.Time
	k := s.Device.Key()
	tr := r.tracks[k]
	known := tr != nil
	if known && t.Before(tr.last) {
		r.log.Debug("sample older than the last one ignored", "device", s.Device.ID(), "time", t, "last", tr.last)
		return
	}
	if !known {
		tr = &track{}
	}
	today := r.dayOf(t)
	dd := r.deviceDay(tr, &s.Device, today, t)
	if dd == nil {
		return
	}
	// deviceDay leaves the cursor on today's record; integrate may move
	// it to an earlier day's.
	rec := tr.cur.rec
	if known && t.After(tr.last) {
		if dd.Polls == 0 && r.dayStart(tr.last).Before(today.start) {
			r.rollover(tr, s.Device, dd, today.start)
		}
		r.integrate(tr, s.Device, tr.last, t)
	}

	event := dd.Polls == 0 || dd.Reachable != s.Reachable()
	dd.Polls++
	if dd.FirstPollAt.IsZero() {
		dd.FirstPollAt = t
	}
	dd.LastPollAt = t
	dd.Reachable = s.Reachable()
	if dd.Reachable {
		dd.PollsOK++
		if dd.LastOKAt == nil {
			dd.LastOKAt = new(time.Time)
		}
		*dd.LastOKAt = t
	}
	aligned, changed := r.foldValues(tr, known, dd, &s, t, t.In(r.loc).Hour())
	if event || changed {
		rec.mark(eventChange)
	}
	dd.Last = append(dd.Last[:0], s.Values...)
	tr.follow(dd.Last, aligned)
	if !known {
		r.tracks[k] = tr
	}
	tr.last, tr.reachable = t, s.Reachable()
}

// foldValues folds the values of s, observed at t (local hour h), into
// dd. known says whether the track has last values; it reports whether
// s names the same values in the same order as they do (aligned), and
// whether any value changed more than the statistics (event, see fold).
func (r *Recorder) foldValues(tr *track, known bool, dd *DeviceDay, s *collectors.SampleSet, t time.Time, h int) (aligned, event bool) {
	// aligned: s names the same values in the same order as the last set
	// (the usual case), so value i's previous reading and its analog
	// statistics are at i.
	aligned = known && !tr.dups && sameNames(tr.values, s.Values)
	c := tr.cursorOf(dd)
	for i := range s.Values {
		v := &s.Values[i]
		var prev *collectors.Value
		var a *Analog
		switch {
		case aligned:
			prev, a = &tr.values[i], c.analogAt(i)
		case known:
			prev = tr.find(v.Name)
		}
		a, ev := r.fold(dd, a, v, prev, t, h)
		c.setAnalog(i, a)
		event = event || ev
	}
	c.truncate(len(s.Values))
	return aligned, event
}

func good(v *collectors.Value) bool { return v != nil && v.Quality == collectors.Good }

func on(v *collectors.Value) bool { return good(v) && v.Num != 0 }

// qualityChanged reports whether v is the first reading of its value or
// its quality differs from prev's (a fault begins or ends).
func qualityChanged(v, prev *collectors.Value) bool {
	return prev == nil || prev.Quality != v.Quality
}

func discreteState(v *collectors.Value) string {
	switch {
	case v.Quality == collectors.CommsLost:
		return StateCommsLost
	case v.Quality != collectors.Good:
		return StateSensorFault
	case v.Num != 0:
		return StateAlarm
	}
	return StateOK
}

// fold adds one value observed at t, in local hour h; prev is the device's previous
// reading of it, nil if unknown. a is the value's analog statistics in dd
// if known. It returns the analog statistics it updated, if any, and
// whether the value changed more than the statistics (event): a state a
// person acts on, a fault beginning or ending, an analog value crossing
// the edge of its range or its first reading of the day.
func (r *Recorder) fold(dd *DeviceDay, a *Analog, v, prev *collectors.Value, t time.Time, h int) (*Analog, bool) {
	switch {
	case v.Kind == collectors.Number:
		if v.Quality == collectors.CommsLost {
			return nil, false
		}
		if a == nil {
			a = r.analog(dd, v)
		}
		event := qualityChanged(v, prev) || a.Count+a.Faults == 0
		if v.Quality != collectors.Good {
			a.Faults++
			return a, event
		}
		if a.Count == 0 || v.Num < a.Min {
			a.Min, a.MinAt = v.Num, t
		}
		if a.Count == 0 || v.Num > a.Max {
			a.Max, a.MaxAt = v.Num, t
		}
		a.Count++
		a.Sum += v.Num
		a.Last, a.LastAt = v.Num, t
		a.add(h, v.Num)
		if a.Range != nil && (!good(prev) || a.Range.Contains(prev.Num) != a.Range.Contains(v.Num)) {
			event = true
			if !a.Range.Contains(v.Num) {
				a.Excursions++
			}
		}
		return a, event

	case v.Kind == collectors.Bool && v.Name == DoorOpen:
		door := ensureDoor(dd)
		if !good(v) {
			return nil, qualityChanged(v, prev)
		}
		event := qualityChanged(v, prev) || door.Open != (v.Num != 0)
		door.Open = v.Num != 0
		if door.Open && good(prev) && prev.Num == 0 {
			door.Openings++
			if !r.working(t) {
				door.AfterHours++
			}
			at := t
			door.LastOpenedAt = &at
		}
		return nil, event

	case v.Kind == collectors.Bool && v.Name == OnBattery:
		m := ensureMains(dd)
		if !good(v) {
			return nil, qualityChanged(v, prev)
		}
		now := v.Num != 0
		event := qualityChanged(v, prev) || now != m.OnBattery
		switch {
		case now && !m.OnBattery:
			m.Episodes = append(m.Episodes, Episode{Start: t})
		case !now && m.OnBattery:
			closeEpisode(m, t, false)
		}
		m.OnBattery = now
		return nil, event

	case v.Kind == collectors.Bool:
		x := ensureDiscrete(dd, v.Name)
		st := discreteState(v)
		event := prev == nil || discreteState(prev) != st || x.Last != st
		if stateRank(st) > stateRank(x.Worst) {
			x.Worst = st
		}
		if st == StateAlarm && (prev == nil || discreteState(prev) != StateAlarm) {
			x.AlarmCount++
			if x.FirstAlarmAt == nil {
				at := t
				x.FirstAlarmAt = &at
			}
		}
		x.Last = st
		return nil, event
	}
	return nil, false
}

// closeEpisode ends the last open episode at t.
func closeEpisode(m *Mains, t time.Time, continues bool) {
	for i := len(m.Episodes) - 1; i >= 0; i-- {
		e := &m.Episodes[i]
		if e.End == nil {
			end := t
			e.End, e.DurationS, e.Continues = &end, t.Sub(e.Start).Seconds(), continues
			return
		}
	}
}

// integrate adds the time from..to, during which the device's previous
// state held, to each day it covers, unless the gap is too long to know.
func (r *Recorder) integrate(tr *track, dev collectors.Device, from, to time.Time) {
	if to.Sub(from) > r.cfg.MaxGap {
		return
	}
	for a := from; a.Before(to); {
		d := r.dayOf(a)
		end := d.next
		if to.Before(end) {
			end = to
		}
		secs := end.Sub(a).Seconds()
		if dd := r.deviceDay(tr, &dev, d, a); dd != nil {
			if !tr.reachable {
				dd.CommsLostS += secs
			}
			c := tr.cursorOf(dd)
			for i := range tr.values {
				v := &tr.values[i]
				if !good(v) || tr.shadowed(i) {
					continue
				}
				switch {
				case v.Kind == collectors.Number:
					an := c.analogAt(i)
					if an == nil {
						an = r.analog(dd, v)
					}
					if an.Range != nil && !an.Range.Contains(v.Num) {
						an.OutOfRangeS += secs
					}
				case v.Kind == collectors.Bool && v.Num != 0:
					switch name := v.Name; name {
					case DoorOpen:
						ensureDoor(dd).OpenS += secs
					case OnBattery:
						ensureMains(dd).BatteryS += secs
					default:
						x := ensureDiscrete(dd, name)
						x.AlarmS += secs
						x.Worst = StateAlarm
					}
				}
			}
		}
		a = end
	}
}

// rollover carries a device's ongoing states into a new day's record: a
// mains-loss episode open at midnight ends in the old day and continues
// in the new one; a door left open and a sensor in alarm start the day so.
func (r *Recorder) rollover(tr *track, dev collectors.Device, dd *DeviceDay, midnight time.Time) {
	for i := range tr.values {
		v := &tr.values[i]
		if v.Kind != collectors.Bool || !on(v) || tr.shadowed(i) {
			continue
		}
		switch name := v.Name; name {
		case OnBattery:
			k := recKey{dev.Site, dev.Room, r.Date(tr.last)}
			if old := r.records[k]; old != nil {
				if od := old.Devices[dev.Name]; od != nil && od.Mains != nil {
					closeEpisode(od.Mains, midnight, true)
					old.mark(eventChange)
				}
			}
			m := ensureMains(dd)
			m.Episodes = append(m.Episodes, Episode{Start: midnight, Continued: true})
			m.OnBattery = true
		case DoorOpen:
			ensureDoor(dd).Open = true
		default:
			x := ensureDiscrete(dd, name)
			at := midnight
			x.Worst, x.Last, x.FirstAlarmAt = StateAlarm, StateAlarm, &at
		}
	}
}

func (r *Recorder) analog(dd *DeviceDay, v *collectors.Value) *Analog {
	if dd.Analog == nil {
		dd.Analog = map[string]*Analog{}
	}
	a := dd.Analog[v.Name]
	if a == nil {
		a = &Analog{Unit: v.Unit}
		if rg, ok := r.cfg.Ranges[v.Name]; ok {
			a.Range = &rg
		}
		dd.Analog[v.Name] = a
	}
	return a
}

func ensureDoor(dd *DeviceDay) *Door {
	if dd.Door == nil {
		dd.Door = &Door{}
	}
	return dd.Door
}

func ensureMains(dd *DeviceDay) *Mains {
	if dd.Mains == nil {
		dd.Mains = &Mains{Episodes: []Episode{}}
	}
	return dd.Mains
}

func ensureDiscrete(dd *DeviceDay, name string) *Discrete {
	if dd.Discrete == nil {
		dd.Discrete = map[string]*Discrete{}
	}
	x := dd.Discrete[name]
	if x == nil {
		x = &Discrete{Worst: StateOK, Last: StateOK}
		dd.Discrete[name] = x
	}
	return x
}

// ObserveAlarm records an alarm (firing, acknowledged or resolved) in its
// room's record of the day it started and of the day of this message.
func (r *Recorder) ObserveAlarm(a *alerts.Alarm) {
	if a == nil || a.Site == "" || a.Room == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := AlarmEntry{
		ID: a.ID, Fingerprint: a.Fingerprint, Rule: a.Rule, Severity: a.Severity, State: a.State,
		Device: a.Device, StartedAt: a.StartedAt, EndedAt: a.EndedAt, AckBy: a.AckBy, AckAt: a.AckAt,
		AckVia: a.AckVia, AckNote: a.AckNote, Text: a.Text,
	}
	days := []time.Time{a.StartedAt}
	if !a.UpdatedAt.IsZero() && r.Date(a.UpdatedAt) != r.Date(a.StartedAt) {
		days = append(days, a.UpdatedAt)
	}
	var recs []*Record
	for _, d := range days {
		if rec := r.record(a.Site, a.Room, d); rec != nil {
			recs = append(recs, rec)
		}
	}
	// An acknowledgement seen on any day stays with the alarm.
	for _, rec := range recs {
		for _, x := range rec.Alarms {
			if x.ID == e.ID && x.AckAt != nil && e.AckAt == nil {
				e.AckBy, e.AckAt, e.AckVia, e.AckNote = x.AckBy, x.AckAt, x.AckVia, x.AckNote
			}
			if x.ID == e.ID && len(x.Told) > len(e.Told) {
				e.Told = x.Told
			}
		}
	}
	for _, rec := range recs {
		rec.mark(eventChange) // an alarm is what the person on duty acts on
		i := slices.IndexFunc(rec.Alarms, func(x AlarmEntry) bool { return x.ID == e.ID })
		if i < 0 {
			rec.Alarms = append(rec.Alarms, e)
			slices.SortStableFunc(rec.Alarms, func(x, y AlarmEntry) int { return x.StartedAt.Compare(y.StartedAt) })
			continue
		}
		old := rec.Alarms[i]
		if old.State == alerts.Resolved && e.State != alerts.Resolved {
			// A late message never reopens an alarm, but an
			// acknowledgement that comes after the resolution is kept.
			if old.AckAt == nil && e.AckAt != nil {
				rec.Alarms[i].AckBy, rec.Alarms[i].AckAt, rec.Alarms[i].AckVia, rec.Alarms[i].AckNote = e.AckBy, e.AckAt, e.AckVia, e.AckNote
			}
			continue
		}
		rec.Alarms[i] = e
	}
}

// Snapshot returns a copy of the record of site/room for date
// (yyyy-mm-dd), with its summary computed.
func (r *Recorder) Snapshot(site, room, date string) (*Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.records[recKey{site, room, date}]
	if rec == nil {
		return nil, false
	}
	return rec.clone(), true
}
