package rules

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// calendarOf returns the calendar of the first rule of rs with one.
func calendarOf(t *testing.T, rs []Rule) *Calendar {
	t.Helper()
	for _, c := range calendarsOf(rs) {
		return c
	}
	t.Fatal("no calendar")
	return nil
}

func day(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, shanghai)
}

// A holiday file gives the public holidays of its years; the built-in
// list still gives the others.
func TestHolidayFileLoads(t *testing.T) {
	data, err := os.ReadFile("testdata/holidays/2027.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHolidays("holidays.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	cal := calendarOf(t, rs)
	if !cal.Contains(day(2027, 2, 8, 10, 0)) {
		t.Fatal("before the file: 2027-02-08, a Monday, is a working day")
	}
	ApplyHolidays(rs, h)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{day(2027, 2, 8, 10, 0), false},  // Spring Festival (file)
		{day(2027, 2, 14, 10, 0), true},  // make-up Sunday (file)
		{day(2027, 10, 9, 10, 0), true},  // make-up Saturday (file)
		{day(2027, 10, 8, 10, 0), true},  // Friday after National Day
		{day(2026, 10, 1, 10, 0), false}, // 2026: built-in
		{day(2026, 10, 10, 10, 0), true}, // 2026 make-up Saturday: built-in
	} {
		if got := cal.Contains(tc.at); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestHolidayFileErrors(t *testing.T) {
	const bad = `years: [2027, 2027]
holidays:
  - 2027-02-05..2027-02-13
  - 2028-01-01
  - 2027-13-01
workdays: [2026-10-10]
`
	_, err := ParseHolidays("holidays.yaml", []byte(bad))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"holidays.yaml:1: years[1]: 2027 appears twice",
		`holidays.yaml:4: holidays[1]: "2028-01-01": 2028 is not in years [2027 2027] (add it there)`,
		`holidays.yaml:5: holidays[2]: "2027-13-01": want a date`,
		`holidays.yaml:6: workdays[0]: "2026-10-10": 2026 is not in years`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseHolidays("holidays.yaml", []byte("holidays: [2027-01-01]\n")); err == nil || !strings.Contains(err.Error(), "holidays.yaml:1: years: missing") {
		t.Errorf("no years: %v", err)
	}
}

// The built-in list parses (builtinHolidays panics otherwise) and covers
// 2026.
func TestBuiltinHolidays(t *testing.T) {
	if h := builtinHolidays(); !h.set.years[2026] || !h.set.holidays[civil{2026, time.October, 1}] {
		t.Fatalf("built-in holidays: %+v", h.Years)
	}
}

// check warns, on a fake clock, when the next 60 days reach a year the
// calendar has no public holidays for.
func TestCalendarCoverageWarning(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	const ahead = 60 * 24 * time.Hour
	if w := CalendarWarnings(rs, day(2026, 6, 1, 12, 0), ahead); len(w) != 0 {
		t.Errorf("June 2026: %v", w)
	}
	w := CalendarWarnings(rs, day(2026, 11, 15, 12, 0), ahead)
	if len(w) != 1 || !strings.Contains(w[0], "calendar working_hours: no public holidays for 2027, within the next 60 days") {
		t.Fatalf("November 2026: %v", w)
	}
	data, err := os.ReadFile("testdata/holidays/2027.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHolidays("holidays.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	ApplyHolidays(rs, h)
	if w := CalendarWarnings(rs, day(2026, 11, 15, 12, 0), ahead); len(w) != 0 {
		t.Errorf("with 2027 from the file: %v", w)
	}
	if w := CalendarWarnings(rs, day(2027, 11, 15, 12, 0), ahead); len(w) != 1 || !strings.Contains(w[0], "2028") {
		t.Errorf("November 2027: %v", w)
	}
	// A calendar without public holidays needs none.
	own := mustParse(t, `
calendars:
  shift: {weekdays: [mon..sun], hours: "18:00-08:00"}
rules:
  - name: night
    severity: minor
    condition: door_open
    when: {inside: shift}
`)
	if w := CalendarWarnings(own, day(2030, 12, 1, 0, 0), ahead); len(w) != 0 {
		t.Errorf("calendar without public holidays: %v", w)
	}
}

// A span that ends before it starts crosses midnight and belongs to the
// day it starts on.
func TestNightShiftCrossesMidnight(t *testing.T) {
	rs := mustParse(t, `
calendars:
  night:
    weekdays: [mon..fri]
    hours: "18:00-08:00"
    public_holidays: true
rules:
  - name: door-at-night
    severity: major
    match: {class: di}
    condition: door_open
    when: {inside: night}
`)
	cal := calendarOf(t, rs)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{day(2026, 11, 25, 17, 59), false}, // Wednesday, day shift
		{day(2026, 11, 25, 18, 0), true},   // Wednesday night
		{day(2026, 11, 25, 23, 59), true},
		{day(2026, 11, 26, 0, 0), true}, // Thursday 00:00: Wednesday's night
		{day(2026, 11, 26, 7, 59), true},
		{day(2026, 11, 26, 8, 0), false}, // end is exclusive
		{day(2026, 11, 28, 7, 0), true},  // Saturday morning: Friday's night
		{day(2026, 11, 28, 18, 0), false},
		{day(2026, 11, 30, 7, 0), false},  // Monday morning: Sunday has no night shift
		{day(2026, 9, 30, 23, 0), true},   // eve of National Day: a working day
		{day(2026, 10, 1, 7, 0), true},    // its night ends on the holiday
		{day(2026, 10, 1, 20, 0), false},  // National Day itself
		{day(2026, 10, 10, 20, 0), true},  // make-up Saturday's night
		{day(2026, 10, 11, 7, 0), true},   // … ends on Sunday
		{day(2026, 10, 11, 20, 0), false}, // Sunday night
	} {
		if got := cal.Contains(tc.at); got != tc.want {
			t.Errorf("Contains(%v %v) = %v, want %v", tc.at.Weekday(), tc.at, got, tc.want)
		}
	}

	// The engine on a fake clock: a door opened at 23:00 alarms, one
	// opened at 09:00 does not; the night ends at 08:00 and the alarm
	// resolves.
	e, err := NewEngine(rs, testInventory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	door := func(on bool) []collectors.Value { return vals(boolv("door_open", on)) }
	night := day(2026, 11, 25, 23, 0).Sub(t0) // Wednesday 23:00
	runSteps(t, e, "door-at-night", diDev, []step{
		{at: 0, vals: door(true), want: Inactive},                    // Wednesday 10:00
		{at: night, vals: door(true), want: Firing},                  // 23:00
		{at: night + 2*time.Hour, vals: door(true), want: Firing},    // Thursday 01:00
		{at: night + 9*time.Hour, want: Inactive},                    // Thursday 08:00 (Tick)
		{at: night + 10*time.Hour, vals: door(true), want: Inactive}, // 09:00
	})
}
