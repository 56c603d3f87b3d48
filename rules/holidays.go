package rules

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

//go:embed holidays.yaml
var builtinHolidaysYAML []byte

// BuiltinHolidaysFile is the name errors give the built-in holiday list.
const BuiltinHolidaysFile = "rules/holidays.yaml"

// Holidays is a holiday file: the public holidays and make-up working
// days (调休上班) of the years it lists, as the State Council publishes
// them each November. A calendar with `public_holidays: true` takes them.
type Holidays struct {
	// Years are the years whose full schedule the file gives.
	Years []int `yaml:"years"`
	// Holidays are dates (2027-10-01) or ranges (2027-10-01..2027-10-07)
	// that are not working days.
	Holidays []string `yaml:"holidays"`
	// Workdays are weekend days that are working days.
	Workdays []string `yaml:"workdays"`

	set holidaySet
}

// holidaySet is what a calendar looks up: the years known, and the days.
type holidaySet struct {
	years              map[int]bool
	holidays, workdays map[civil]bool
}

// ParseHolidays decodes and validates a holiday file. Every date must
// fall in one of its years.
func ParseHolidays(file string, data []byte) (*Holidays, error) {
	var h Holidays
	yf, err := yamlconf.Decode(file, data, &h)
	if err != nil {
		return nil, err
	}
	errs := &yamlconf.Errors{File: yf}
	h.set.years = map[int]bool{}
	if len(h.Years) == 0 {
		errs.Addf("years", "missing: the years whose holidays the file gives (e.g. [2026, 2027])")
	}
	for i, y := range h.Years {
		switch {
		case y < 2000 || y > 2200:
			errs.Addf(fmt.Sprintf("years[%d]", i), "%d is not a year", y)
		case h.set.years[y]:
			errs.Addf(fmt.Sprintf("years[%d]", i), "%d appears twice", y)
		}
		h.set.years[y] = true
	}
	h.set.holidays = h.days(errs, "holidays", h.Holidays)
	h.set.workdays = h.days(errs, "workdays", h.Workdays)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &h, nil
}

// days parses list (the field p) and checks each date is in a listed year.
func (h *Holidays) days(errs *yamlconf.Errors, p string, list []string) map[civil]bool {
	out := dates(errs, p, list, time.UTC)
	for i, s := range list {
		days, _ := dateSpan(s, time.UTC)
		for _, d := range days {
			if !h.set.years[d.y] {
				errs.Addf(fmt.Sprintf("%s[%d]", p, i), "%q: %d is not in years %v (add it there)", s, d.y, h.Years)
				break
			}
		}
	}
	return out
}

// builtinHolidays is the built-in holiday list, parsed once.
var builtinHolidays = sync.OnceValue(func() *Holidays {
	h, err := ParseHolidays(BuiltinHolidaysFile, builtinHolidaysYAML)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return h
})

// over returns the days of h for its years and those of base for the
// others.
func (h *Holidays) over(base holidaySet) holidaySet {
	out := holidaySet{years: maps.Clone(base.years), holidays: map[civil]bool{}, workdays: map[civil]bool{}}
	maps.Copy(out.years, h.set.years)
	for _, m := range []struct{ dst, base, own map[civil]bool }{
		{out.holidays, base.holidays, h.set.holidays}, {out.workdays, base.workdays, h.set.workdays}} {
		for d := range m.base {
			if !h.set.years[d.y] {
				m.dst[d] = true
			}
		}
		maps.Copy(m.dst, m.own)
	}
	return out
}

// ApplyHolidays gives every calendar of rs with `public_holidays: true`
// the holidays and make-up working days of h for h's years, and the
// built-in ones for the others.
func ApplyHolidays(rs []Rule, h *Holidays) {
	for _, c := range calendarsOf(rs) {
		if c.PublicHolidays {
			c.public = h.over(builtinHolidays().set)
		}
	}
}

// calendarsOf returns the distinct calendars rs use, by name.
func calendarsOf(rs []Rule) []*Calendar {
	var out []*Calendar
	for _, r := range rs {
		if r.When != nil && r.When.Calendar != nil && !slices.Contains(out, r.When.Calendar) {
			out = append(out, r.When.Calendar)
		}
	}
	slices.SortStableFunc(out, func(a, b *Calendar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Uncovered returns the years from from to to (inclusive, in the
// calendar's zone) whose public holidays the calendar does not know; nil
// for a calendar that does not take public holidays.
func (c *Calendar) Uncovered(from, to time.Time) []int {
	if !c.PublicHolidays {
		return nil
	}
	var out []int
	for y := from.In(c.loc).Year(); y <= to.In(c.loc).Year(); y++ {
		if !c.public.years[y] {
			out = append(out, y)
		}
	}
	return out
}

// CalendarWarnings describes the calendars of rs whose public holidays
// do not cover the time from now to now+ahead: a holiday there would
// count as a working day.
func CalendarWarnings(rs []Rule, now time.Time, ahead time.Duration) []string {
	var out []string
	for _, c := range calendarsOf(rs) {
		if ys := c.Uncovered(now, now.Add(ahead)); len(ys) > 0 {
			out = append(out, fmt.Sprintf("calendar %s: no public holidays for %s, within the next %d days: add them to the holiday file (holidays_file) from the State Council's notice",
				c.Name, joinInts(ys), int(ahead.Hours()/24)))
		}
	}
	return out
}

// joinInts prints years as "2027, 2028".
func joinInts(ys []int) string {
	s := make([]string, len(ys))
	for i, y := range ys {
		s[i] = fmt.Sprint(y)
	}
	return strings.Join(s, ", ")
}
