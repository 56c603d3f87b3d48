package notify

import (
	"fmt"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Backoff is the one retry policy of every send: attempt n (from 1) that
// failed waits Min·2^(n-1), at most Max, before the next; after Attempts
// the send is given up (dead-lettered).
type Backoff struct {
	Min      time.Duration `yaml:"min"`
	Max      time.Duration `yaml:"max"`
	Attempts int           `yaml:"attempts"`
}

// DefaultBackoff is 2s doubling up to 1m, 6 attempts (about 2 minutes).
func DefaultBackoff() Backoff {
	return Backoff{Min: 2 * time.Second, Max: time.Minute, Attempts: 6}
}

// Next returns the wait after failed attempt n and whether another
// attempt is allowed. A vendor's asked-for wait (rate limited) is honoured
// when longer.
func (b Backoff) Next(n int, asked time.Duration) (time.Duration, bool) {
	if n >= b.Attempts {
		return 0, false
	}
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return max(d, asked), true
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

// String is the policy in a log line.
func (b Backoff) String() string {
	return fmt.Sprintf("%d attempts, %v..%v", b.Attempts, b.Min, b.Max)
}
