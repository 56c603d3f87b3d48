package daily

import (
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// track is what the recorder remembers of a device between samples; the
// device itself is its key in Recorder.tracks.
type track struct {
	last      time.Time
	reachable bool
	// values are the last sample's values: the Last of the device's
	// entry in the record of the last sample's day (shared, not copied:
	// a day's Last is written only while its samples come, and the
	// first sample of the next day goes to a new entry). Where a name
	// repeats (dups), its last value counts.
	values []collectors.Value
	dups   bool
	// cur is the device's place in the record of its latest day.
	cur cursor
}

// cursor is where a device's samples of one day go: the record of its
// room, the device's entry in it, and the analog statistics in that entry
// of each of the track's values (nil: not looked up yet). It is valid
// while the recorder's generation is gen, so a sample set of the same day
// finds them without a map lookup.
type cursor struct {
	gen    uint64
	date   string
	rec    *Record
	dd     *DeviceDay
	analog []*Analog
}

// deviceDay returns dev's entry in the record of its room on t's day d,
// and touches the record as record does; nil if the day is before the
// floor. The track's cursor keeps them for the next sample of the day.
func (r *Recorder) deviceDay(tr *track, dev *collectors.Device, d day, t time.Time) *DeviceDay {
	if c := &tr.cur; c.rec != nil && c.gen == r.gen && c.date == d.date {
		c.rec.touch(t)
		return c.dd
	}
	rec := r.recordOn(dev.Site, dev.Room, d, t)
	if rec == nil {
		return nil
	}
	tr.cur = cursor{gen: r.gen, date: d.date, rec: rec, dd: rec.device(*dev), analog: tr.cur.analog[:0]}
	return tr.cur.dd
}

// cursorOf returns the track's cursor if it holds dd, else nil after
// emptying its analog statistics, which the next values would not match.
func (tr *track) cursorOf(dd *DeviceDay) *cursor {
	if tr.cur.dd != dd {
		tr.cur.analog = tr.cur.analog[:0]
		return nil
	}
	return &tr.cur
}

// analogAt returns the analog statistics of the track's value i, nil if
// not known (or c is nil).
func (c *cursor) analogAt(i int) *Analog {
	if c == nil || i >= len(c.analog) {
		return nil
	}
	return c.analog[i]
}

// setAnalog records a as the analog statistics of value i (nil: none).
func (c *cursor) setAnalog(i int, a *Analog) {
	if c == nil {
		return
	}
	for len(c.analog) <= i {
		c.analog = append(c.analog, nil)
	}
	c.analog[i] = a
}

// truncate drops the analog statistics of values beyond the first n.
func (c *cursor) truncate(n int) {
	if c != nil && len(c.analog) > n {
		c.analog = c.analog[:n]
	}
}

// find returns the track's last value called name, nil if none.
func (tr *track) find(name string) *collectors.Value {
	for i := len(tr.values) - 1; i >= 0; i-- {
		if tr.values[i].Name == name {
			return &tr.values[i]
		}
	}
	return nil
}

// shadowed reports whether the track's value i is hidden by a later
// value of the same name.
func (tr *track) shadowed(i int) bool {
	if !tr.dups {
		return false
	}
	for j := i + 1; j < len(tr.values); j++ {
		if tr.values[j].Name == tr.values[i].Name {
			return true
		}
	}
	return false
}

// follow makes last, a DeviceDay's Last, the device's last values;
// aligned says that they have the names of the values before, none
// repeated.
func (tr *track) follow(last []collectors.Value, aligned bool) {
	tr.values = last
	if !aligned {
		tr.dups = !collectors.UniqueNames(last)
	}
}

// sameNames reports whether a and b name the same values in the same
// order.
func sameNames(a, b []collectors.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}
