package daily

import "time"

// day is one local day of the recorder's time zone.
type day struct {
	// start is its midnight (dayStart), next the following one.
	start, next time.Time
	// date is the day as yyyy-mm-dd (Date).
	date string
	// lo and hi bound the instants, [lo, hi), known to fall on this day;
	// zero when the day was not cached.
	lo, hi time.Time
}

// dayOf returns t's local day: the same as dayStart and Date, without
// working them out again for every sample of a day already seen. Callers
// hold r.mu.
func (r *Recorder) dayOf(t time.Time) day {
	if c := &r.today; !t.Before(c.lo) && t.Before(c.hi) {
		return *c
	}
	lt := t.In(r.loc)
	y, m, dd := lt.Date()
	d := day{start: midnight(y, m, dd, r.loc), next: midnight(y, m, dd+1, r.loc), date: lt.Format(time.DateOnly)}
	// Cache the part of the day within t's zone period: there the local
	// clock runs evenly, so when its first and last instants fall on the
	// day, every instant between them does.
	lo, hi := lt.ZoneBounds()
	if lo.Before(d.start) {
		lo = d.start
	}
	if hi.IsZero() || d.next.Before(hi) {
		hi = d.next
	}
	if !t.Before(lo) && t.Before(hi) && r.onDay(lo, y, m, dd) && r.onDay(hi.Add(-1), y, m, dd) {
		d.lo, d.hi = lo, hi
		r.today = d
	}
	return d
}

// onDay reports whether t falls on local day y-m-d.
func (r *Recorder) onDay(t time.Time, y int, m time.Month, d int) bool {
	ty, tm, td := t.In(r.loc).Date()
	return ty == y && tm == m && td == d
}

// dayStart returns local midnight of t's day.
func (r *Recorder) dayStart(t time.Time) time.Time {
	y, m, d := t.In(r.loc).Date()
	return midnight(y, m, d, r.loc)
}

// midnight returns the first instant of local date y-m-d in loc (d may
// overflow the month, as in time.Date). Where the clock jumps over
// midnight (America/Havana in March: 00:00 is 01:00), time.Date may give
// an instant of the day before; the day then starts at that jump.
func midnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, loc).Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		_, t = t.ZoneBounds()
	}
	return t
}

// Date returns t's local day as yyyy-mm-dd.
func (r *Recorder) Date(t time.Time) string { return t.In(r.loc).Format(time.DateOnly) }
