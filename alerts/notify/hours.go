package notify

import (
	"fmt"
	"strings"
	"time"
)

// Span is a daily span of local time, [From, To) in minutes since
// midnight; To <= From crosses midnight ("22:00-07:00").
type Span struct{ From, To int }

// ParseSpan parses "HH:MM-HH:MM"; "24:00" ends at midnight.
func ParseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	from, err1 := parseClock(a)
	to, err2 := parseClock(b)
	if err1 != nil || err2 != nil || from == to || from == 24*60 {
		return Span{}, fmt.Errorf("%q: want HH:MM-HH:MM with two different times", s)
	}
	return Span{from, to}, nil
}

// parseClock parses "HH:MM" into minutes since midnight.
func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse("15:04", s)
	if err == nil {
		return t.Hour()*60 + t.Minute(), nil
	}
	if s == "24:00" {
		return 24 * 60, nil
	}
	return 0, fmt.Errorf("bad time %q: want HH:MM", s)
}

// Crosses reports whether the span runs past midnight.
func (s Span) Crosses() bool { return s.To <= s.From }

// minutes is t's local time of day in minutes.
func minutes(t time.Time) int { return t.Hour()*60 + t.Minute() }

// Contains reports whether local time t falls in the span.
func (s Span) Contains(t time.Time) bool {
	m := minutes(t)
	if s.Crosses() {
		return m >= s.From || m < s.To
	}
	return m >= s.From && m < s.To
}

// Start returns the start of the occurrence of the span that contains
// local time t (for a span crossing midnight, possibly the day before).
func (s Span) Start(t time.Time) time.Time {
	day := midnight(t)
	if s.Crosses() && minutes(t) < s.To {
		day = day.AddDate(0, 0, -1)
	}
	return day.Add(time.Duration(s.From) * time.Minute)
}

// End returns the end of the occurrence of the span containing t.
func (s Span) End(t time.Time) time.Time {
	st := s.Start(t)
	d := s.To - s.From
	if d <= 0 {
		d += 24 * 60
	}
	return st.Add(time.Duration(d) * time.Minute)
}

// midnight is the start of t's calendar day in t's zone.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// String is the span as written.
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
}
