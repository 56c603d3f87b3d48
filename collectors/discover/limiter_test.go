package discover

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock stands still; After records when a waiter asked to wake and
// fires at once, so a test sees every start time the limiter chose.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	wakes []time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wakes = append(c.wakes, c.now.Add(d))
	ch := make(chan time.Time, 1)
	ch <- c.now.Add(d)
	return ch
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestLimiterSpacesConcurrentWaiters: 20 requests from 4 goroutines at
// 10/s start 100 ms apart, the first at once: 1.9 s from first to last.
func TestLimiterSpacesConcurrentWaiters(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0}
	l := NewLimiter(10, clk)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	wakes := slices.Clone(clk.wakes)
	slices.SortFunc(wakes, func(a, b time.Time) int { return a.Compare(b) })
	if len(wakes) != 19 {
		t.Fatalf("%d waits, want 19 (the first request goes at once)", len(wakes))
	}
	for i, w := range wakes {
		if want := t0.Add(time.Duration(i+1) * 100 * time.Millisecond); !w.Equal(want) {
			t.Fatalf("request %d starts at +%v, want +%v", i+2, w.Sub(t0), want.Sub(t0))
		}
	}
}

// TestLimiterNoBurstAfterIdle: an idle spell earns no burst.
func TestLimiterNoBurstAfterIdle(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0}
	l := NewLimiter(4, clk)
	ctx := context.Background()
	_ = l.Wait(ctx)
	clk.set(t0.Add(time.Minute))
	_ = l.Wait(ctx) // at once
	_ = l.Wait(ctx) // 250 ms later
	if len(clk.wakes) != 1 || !clk.wakes[0].Equal(t0.Add(time.Minute+250*time.Millisecond)) {
		t.Fatalf("wakes %v, want one at +1m0.25s", clk.wakes)
	}
}

// TestLimiterCancel: a cancelled context ends the wait.
func TestLimiterCancel(t *testing.T) {
	l := NewLimiter(0.001, nil) // one request per 1000 s
	ctx, cancel := context.WithCancel(context.Background())
	_ = l.Wait(ctx)
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("no error from a cancelled wait")
	}
}
