package notify

import (
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Backoff configures the one retry policy of every send (the channels'
// shared channels.Backoff): a failed attempt waits min, doubled after
// each failure up to max, before the next; after attempts in all the
// send is given up (dead-lettered). A notifier re-queues the send for its
// next attempt rather than holding the channel while it waits.
type Backoff struct {
	Min      time.Duration `yaml:"min"`
	Max      time.Duration `yaml:"max"`
	Attempts int           `yaml:"attempts"`
}

// DefaultBackoff is 2s doubling up to 1m, 6 attempts (about 2 minutes).
func DefaultBackoff() Backoff {
	return Backoff{Min: 2 * time.Second, Max: time.Minute, Attempts: 6}
}

// Next returns the wait after failed attempt n (from 1) with receipt r,
// and whether another attempt is allowed.
func (b Backoff) Next(n int, r channels.Receipt) (time.Duration, bool) {
	if n >= b.Attempts {
		return 0, false
	}
	return channels.Backoff{Initial: b.Min, Max: b.Max, Attempts: b.Attempts}.Delay(n, r), true
}

func (b *Backoff) validate(errs *yamlconf.Errors, p string) {
	if b.Min <= 0 {
		errs.Addf(p+".min", "%v: must be positive", b.Min)
	}
	if b.Max < b.Min {
		errs.Addf(p+".max", "%v: must be at least min (%v)", b.Max, b.Min)
	}
	if b.Attempts < 1 || b.Attempts > 100 {
		errs.Addf(p+".attempts", "%d: want 1 to 100", b.Attempts)
	}
}
