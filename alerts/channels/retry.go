package channels

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Backoff is the wait between attempts of one send: Initial, doubled after
// each failure up to Max, each wait drawn at random from its upper half
// so that many notifiers do not retry in step.
type Backoff struct {
	Initial  time.Duration // first wait; default 2s
	Max      time.Duration // longest wait; default 5m
	Attempts int           // attempts in all, the first included; default 5
}

// DefaultBackoff is the back-off of a zero Backoff.
var DefaultBackoff = Backoff{Initial: 2 * time.Second, Max: 5 * time.Minute, Attempts: 5}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Attempts <= 0 {
		b.Attempts = DefaultBackoff.Attempts
	}
	return b
}

// Delay is the wait before attempt n+1 after n failed attempts (n >= 1),
// raised to what the vendor asked for in r.RetryAfter. The notifier uses
// it for redelivery delays too.
func (b Backoff) Delay(n int, r Receipt) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	d = d/2 + rand.N(d/2+1)
	return max(d, r.RetryAfter)
}

// ErrGaveUp wraps the last error of a send that failed on every attempt.
var ErrGaveUp = errors.New("gave up")

// Send sends m over ch, retrying with back-off while the receipt says
// Retry. It stops at once on success, on an error that is not to be
// retried, on a receipt marked Unknown (the message may have gone out: it
// is never resent blindly) and when ctx ends. It returns the last receipt
// and error; an error after the last attempt wraps ErrGaveUp.
func Send(ctx context.Context, ch Channel, m *Message, b Backoff) (Receipt, error) {
	b = b.withDefaults()
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return Receipt{Retry: true}, err
		}
		r, err := ch.Send(ctx, m)
		if err == nil || !r.Retry || r.Unknown {
			return r, err
		}
		if n >= b.Attempts {
			return r, errors.Join(ErrGaveUp, err)
		}
		t := time.NewTimer(b.Delay(n, r))
		select {
		case <-ctx.Done():
			t.Stop()
			return r, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}
