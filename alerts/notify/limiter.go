package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is N messages per Per ("20/min"); the zero Rate is unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate parses "20/min", "1/s", "30/h" or "5/10s"; "" is unlimited.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("%q: want a count per period such as 20/min", s)
	}
	var d time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s", "sec":
		d = time.Second
	case "min", "m":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	default:
		d, err = time.ParseDuration(per)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("%q: period %q: want s, min, h or a duration", s, per)
		}
	}
	return Rate{N: count, Per: d}, nil
}

// Limiter is a sliding window: at most Rate.N events in any Rate.Per.
// It is not safe for concurrent use; its owner serialises calls.
type Limiter struct {
	rate Rate
	past []time.Time // times of the events within the window, oldest first
}

// NewLimiter returns a limiter for r (unlimited when r is zero).
func NewLimiter(r Rate) *Limiter { return &Limiter{rate: r} }

// Wait returns how long from now until another event is allowed (0: now).
func (l *Limiter) Wait(now time.Time) time.Duration {
	if l == nil || l.rate.N == 0 {
		return 0
	}
	l.trim(now)
	if len(l.past) < l.rate.N {
		return 0
	}
	return l.past[0].Add(l.rate.Per).Sub(now)
}

// Take records an event at now.
func (l *Limiter) Take(now time.Time) {
	if l == nil || l.rate.N == 0 {
		return
	}
	l.trim(now)
	l.past = append(l.past, now)
}

func (l *Limiter) trim(now time.Time) {
	i := 0
	for i < len(l.past) && !l.past[i].Add(l.rate.Per).After(now) {
		i++
	}
	l.past = l.past[i:]
}
