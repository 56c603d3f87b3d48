package rules

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai without a system zoneinfo

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// DefaultTimezone is the calendars' time zone when none is given.
const DefaultTimezone = "Asia/Shanghai"

// Calendar is a weekly working-hours calendar with holidays and make-up
// working days (调休上班), in one time zone.
type Calendar struct {
	// Timezone is an IANA zone; default Asia/Shanghai.
	Timezone string `yaml:"timezone"`
	// Weekdays are the working days: mon, tue, … or a range "mon..fri".
	Weekdays []string `yaml:"weekdays"`
	// Hours are the working hours of a working day: "08:00-18:00", or
	// several spans separated by commas ("08:00-12:00,14:00-17:30");
	// "24:00" ends at midnight. A span that ends before it starts
	// crosses midnight ("18:00-08:00", a night shift) and belongs to the
	// day it starts on. Empty: the whole day.
	Hours string `yaml:"hours"`
	// Holidays are dates (2026-10-01) or date ranges
	// (2026-10-01..2026-10-07) that are not working days.
	Holidays []string `yaml:"holidays"`
	// Workdays are make-up working days that fall on a weekend
	// (2026-09-20).
	Workdays []string `yaml:"workdays"`
	// PublicHolidays adds the public holidays and make-up working days
	// of the holiday file (holidays_file in roomwatch.yaml; see
	// ApplyHolidays), and the built-in ones (rules/holidays.yaml) for
	// the years it does not give, to Holidays and Workdays.
	PublicHolidays bool `yaml:"public_holidays"`

	// Name is the calendar's key in the file.
	Name string `yaml:"-"`

	loc  *time.Location
	days [7]bool
	// spans are minutes since midnight, [from, to); to < from crosses
	// midnight.
	spans    [][2]int
	holidays map[civil]bool
	workdays map[civil]bool
	// public are the public holidays taken (PublicHolidays).
	public holidaySet
}

type civil struct {
	y int
	m time.Month
	d int
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (c *Calendar) compile(errs *yamlconf.Errors, p string) {
	tz := c.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs.Addf(p+".timezone", "%q: %v", tz, err)
		loc = time.UTC
	}
	c.loc = loc
	c.days = [7]bool{}
	if len(c.Weekdays) == 0 {
		errs.Addf(p+".weekdays", "missing (e.g. [mon..fri])")
	}
	for i, w := range c.Weekdays {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(w)), "..")
		if !isRange {
			to = from
		}
		a, ok1 := weekdayNames[from]
		b, ok2 := weekdayNames[to]
		if !ok1 || !ok2 {
			errs.Addf(fmt.Sprintf("%s.weekdays[%d]", p, i), "%q: want mon, tue, wed, thu, fri, sat, sun or a range mon..fri", w)
			continue
		}
		for d := a; ; d = (d + 1) % 7 {
			c.days[d] = true
			if d == b {
				break
			}
		}
	}
	c.spans = nil
	if strings.TrimSpace(c.Hours) == "" {
		c.spans = [][2]int{{0, 24 * 60}}
	}
	for _, s := range strings.Split(c.Hours, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, b, ok := strings.Cut(s, "-")
		from, err1 := clock(a)
		to, err2 := clock(b)
		switch {
		case !ok || err1 != nil || err2 != nil:
			errs.Addf(p+".hours", "%q: want HH:MM-HH:MM[,HH:MM-HH:MM]", s)
		case to == from:
			errs.Addf(p+".hours", "%q: start and end are the same time (leave hours out for the whole day)", s)
		case from == 24*60:
			errs.Addf(p+".hours", "%q: a span starts at 00:00, not 24:00", s)
		default:
			c.spans = append(c.spans, [2]int{from, to})
		}
	}
	c.holidays = dates(errs, p+".holidays", c.Holidays, loc)
	c.workdays = dates(errs, p+".workdays", c.Workdays, loc)
	c.public = holidaySet{}
	if c.PublicHolidays {
		c.public = builtinHolidays().set
	}
}

func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); n != 2 || err != nil || len(s) != 5 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// dates parses the dates and ranges of list (the field p) into days.
func dates(errs *yamlconf.Errors, p string, list []string, loc *time.Location) map[civil]bool {
	out := map[civil]bool{}
	for i, s := range list {
		days, ok := dateSpan(s, loc)
		if !ok {
			errs.Addf(fmt.Sprintf("%s[%d]", p, i), "%q: want a date 2026-10-01 or a range 2026-10-01..2026-10-07", s)
			continue
		}
		for _, d := range days {
			out[d] = true
		}
	}
	return out
}

// dateSpan parses a date (2026-10-01) or a range of at most a year
// (2026-10-01..2026-10-07) into its days.
func dateSpan(s string, loc *time.Location) ([]civil, bool) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "..")
	if !isRange {
		b = a
	}
	from, err1 := time.ParseInLocation(time.DateOnly, strings.TrimSpace(a), loc)
	to, err2 := time.ParseInLocation(time.DateOnly, strings.TrimSpace(b), loc)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, false
	}
	var out []civil
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		y, m, dd := d.Date()
		out = append(out, civil{y, m, dd})
	}
	return out, true
}

// Contains reports whether t falls within working hours of a working day
// (for a span crossing midnight, of the day the span starts on).
func (c *Calendar) Contains(t time.Time) bool {
	t = t.In(c.loc)
	mins := t.Hour()*60 + t.Minute()
	today := c.working(t)
	for _, s := range c.spans {
		switch {
		case s[0] < s[1]:
			if today && mins >= s[0] && mins < s[1] {
				return true
			}
		case today && mins >= s[0]:
			return true
		case mins < s[1] && c.working(t.AddDate(0, 0, -1)):
			// The tail of a night span that began the day before.
			return true
		}
	}
	return false
}

// working reports whether t's local day is a working day.
func (c *Calendar) working(t time.Time) bool {
	y, m, d := t.Date()
	day := civil{y, m, d}
	return (c.days[t.Weekday()] || c.workdays[day] || c.public.workdays[day]) && !c.holidays[day] && !c.public.holidays[day]
}

// open reports whether the rule's time gate is open at t.
func (w *When) open(t time.Time) bool {
	if w == nil || w.Calendar == nil {
		return true
	}
	in := w.Calendar.Contains(t)
	if w.Inside != "" {
		return in
	}
	return !in
}
