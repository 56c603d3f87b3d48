package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

// Shift is one duty shift of a day, "08:00-20:00"; a night shift crosses
// midnight ("20:00-08:00") and belongs to the day it starts.
type Shift struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"` // 白班, 夜班
	Hours string `yaml:"hours"`

	span Span
}

// Duty names the people on each shift: shift name → people.
type Duty map[string][]string

// Roster is the duty roster (值班表): who is on duty by date and shift. A
// listed date overrides; a holiday of the calendar takes the holiday
// duty; any other day takes its weekday's duty.
type Roster struct {
	Shifts []Shift `yaml:"shifts"`
	// Week is the duty by weekday: keys mon, tue, … or a range mon..fri.
	Week map[string]Duty `yaml:"week"`
	// Holidays is the duty on the calendar's holidays.
	Holidays Duty `yaml:"holidays"`
	// Dates override single dates (2026-10-01); a shift a date does not
	// name keeps its regular duty.
	Dates map[string]Duty `yaml:"dates"`
	// Calendar is the holiday calendar, in the rules' format (timezone,
	// weekdays, holidays, workdays).
	Calendar *rules.Calendar `yaml:"calendar"`

	week [7]Duty
	loc  *time.Location
}

// OnDutyKeyword is the route target meaning "whoever is on duty".
const OnDutyKeyword = "on-duty"

// Configured reports whether the roster has shifts.
func (r *Roster) Configured() bool { return len(r.Shifts) > 0 }

// OnDuty returns the people on duty at t and why, e.g.
// "值班表 2026-12-01（节假日）夜班 20:00-08:00".
func (r *Roster) OnDuty(t time.Time) ([]string, string) {
	t = t.In(r.loc)
	var people, why []string
	for _, s := range r.Shifts {
		if !s.span.Contains(t) {
			continue
		}
		day := s.span.Start(t)
		duty, kind := r.dutyOf(day)
		who := duty[s.Name]
		if d, ok := r.Dates[day.Format(time.DateOnly)]; ok && len(d[s.Name]) > 0 {
			who, kind = d[s.Name], "（特定日期）"
		}
		for _, p := range who {
			if !slices.Contains(people, p) {
				people = append(people, p)
			}
		}
		why = append(why, fmt.Sprintf("值班表 %s%s %s %s", day.Format(time.DateOnly), kind, shiftTitle(s), s.span))
	}
	return people, strings.Join(why, "；")
}

// dutyOf returns the regular duty of the day starting at day.
func (r *Roster) dutyOf(day time.Time) (Duty, string) {
	if r.Calendar != nil && r.Calendar.Holiday(day) && r.Holidays != nil {
		return r.Holidays, "（节假日）"
	}
	return r.week[day.Weekday()], ""
}

func shiftTitle(s Shift) string {
	if s.Title != "" {
		return s.Title
	}
	return s.Name
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// compile checks the roster and prepares it; known says whether a person
// exists.
func (r *Roster) compile(errs *yamlconf.Errors, p string, loc *time.Location, known func(string) bool) {
	r.loc = loc
	if r.Calendar != nil {
		r.Calendar.Compile(errs, p+".calendar")
		r.loc = r.Calendar.Location()
	}
	if !r.Configured() {
		if len(r.Week) > 0 || len(r.Dates) > 0 || r.Holidays != nil {
			errs.Addf(p+".shifts", "missing: a roster needs its shifts (e.g. {name: day, title: 白班, hours: \"08:00-20:00\"})")
		}
		return
	}
	names := map[string]bool{}
	var covered [24 * 60]bool
	for i := range r.Shifts {
		s := &r.Shifts[i]
		sp := fmt.Sprintf("%s.shifts[%d]", p, i)
		if s.Name == "" || names[s.Name] {
			errs.Addf(sp+".name", "%q: missing or used twice", s.Name)
		}
		names[s.Name] = true
		span, err := ParseSpan(s.Hours)
		if err != nil {
			errs.Addf(sp+".hours", "%v", err)
			continue
		}
		s.span = span
		for m := span.From; m != span.To; m = (m + 1) % (24 * 60) {
			covered[m] = true
		}
	}
	if i := slices.Index(covered[:], false); i >= 0 {
		errs.Addf(p+".shifts", "no shift covers %02d:%02d: a roster gap (nobody would be paged)", i/60, i%60)
	}
	checkDuty := func(dp string, d Duty, full bool) {
		for _, s := range sortedKeys(d) {
			if !names[s] {
				errs.Addf(dp+"."+s, "unknown shift %q", s)
			}
			for j, who := range d[s] {
				if !known(who) {
					errs.Addf(fmt.Sprintf("%s.%s[%d]", dp, s, j), "unknown person %q", who)
				}
			}
		}
		if full {
			for _, s := range r.Shifts {
				if len(d[s.Name]) == 0 && s.Name != "" {
					errs.Addf(dp, "shift %s (%s) has nobody: a roster gap", s.Name, shiftTitle(s))
				}
			}
		}
	}
	for _, k := range sortedKeys(r.Week) {
		kp := p + ".week." + k
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(k)), "..")
		if !isRange {
			to = from
		}
		a, ok1 := weekdays[from]
		b, ok2 := weekdays[to]
		if !ok1 || !ok2 {
			errs.Addf(kp, "%q: want mon, tue, wed, thu, fri, sat, sun or a range mon..fri", k)
			continue
		}
		for d := a; ; d = (d + 1) % 7 {
			if r.week[d] != nil {
				errs.Addf(kp, "%s is given twice", d)
			}
			r.week[d] = r.Week[k]
			if d == b {
				break
			}
		}
		checkDuty(kp, r.Week[k], true)
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if r.week[d] == nil {
			errs.Addf(p+".week", "%s has no duty: a roster gap", d)
		}
	}
	if r.Holidays != nil {
		checkDuty(p+".holidays", r.Holidays, true)
	}
	for _, k := range sortedKeys(r.Dates) {
		if _, err := time.ParseInLocation(time.DateOnly, k, r.loc); err != nil {
			errs.Addf(p+".dates."+k, "%q: want a date such as 2026-10-01", k)
		}
		checkDuty(p+".dates."+k, r.Dates[k], false)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
