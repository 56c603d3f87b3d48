package rules

import (
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Compile checks a calendar given outside a rules file (the notifier's
// duty roster uses the same format) and prepares it for Contains and
// Holiday; problems go to errs under path.
func (c *Calendar) Compile(errs *yamlconf.Errors, path string) { c.compile(errs, path) }

// Location is the calendar's time zone (after Compile).
func (c *Calendar) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Holiday reports whether the calendar day of t (in the calendar's zone)
// is a holiday: listed, or a public holiday (public_holidays: true).
func (c *Calendar) Holiday(t time.Time) bool {
	y, m, d := t.In(c.Location()).Date()
	day := civil{y, m, d}
	return c.holidays[day] || c.public.holidays[day]
}

// UseHolidays takes the public holidays of a holidays file (over the
// built-in list) when the calendar asks for them, as ApplyHolidays does
// for the rules' calendars.
func (c *Calendar) UseHolidays(h *Holidays) {
	if c.PublicHolidays && h != nil {
		c.public = h.over(builtinHolidays().set)
	}
}
