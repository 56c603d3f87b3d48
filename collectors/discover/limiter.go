package discover

import (
	"context"
	"sync"
	"time"
)

// Clock is the time a Limiter waits on; tests pass a fake one.
type Clock interface {
	Now() time.Time
	// After fires after d.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limiter spaces requests evenly: at most rate per second, with no
// burst, whichever goroutine asks. It is safe for concurrent use.
type Limiter struct {
	clock    Clock
	interval time.Duration

	mu   sync.Mutex
	next time.Time // when the next request may start
}

// NewLimiter returns a Limiter letting rate requests a second through
// (rate > 0) on clock (nil: the wall clock).
func NewLimiter(rate float64, clock Clock) *Limiter {
	if clock == nil {
		clock = realClock{}
	}
	return &Limiter{clock: clock, interval: time.Duration(float64(time.Second) / rate)}
}

// Wait blocks until the caller may send one request, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clock.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		select {
		case <-l.clock.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}
