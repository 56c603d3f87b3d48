package patrol

import (
	"sync"
	"time"
)

// limiter counts failed logins per key (a client address, a user name)
// within a window; Blocked says when a key has used up its attempts.
type limiter struct {
	max    int
	window time.Duration

	mu   sync.Mutex
	fail map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fail: map[string][]time.Time{}}
}

// prune drops failures older than the window. Callers hold l.mu.
func (l *limiter) prune(k string, now time.Time) []time.Time {
	ts := l.fail[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fail, k)
	} else {
		l.fail[k] = ts
	}
	return ts
}

// Blocked reports whether any of keys has max failures within the window.
func (l *limiter) Blocked(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.prune(k, now)) >= l.max {
			return true
		}
	}
	return false
}

// Fail counts a failure against every key.
func (l *limiter) Fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fail) > 100000 { // bound memory under a spray of names
		clear(l.fail)
	}
	for _, k := range keys {
		l.fail[k] = append(l.prune(k, now), now)
	}
}

// Reset forgets the failures of keys (after a successful login).
func (l *limiter) Reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.fail, k)
	}
}
