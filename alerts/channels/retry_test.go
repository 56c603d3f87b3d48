package channels

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// scripted is a channel that answers from a script and records when it
// was called.
type scripted struct {
	script []Receipt // a zero receipt with Retry false is success
	fail   error
	calls  []time.Duration
	start  time.Time
}

func (s *scripted) Name() string { return "scripted" }

func (s *scripted) Send(ctx context.Context, m *Message) (Receipt, error) {
	s.calls = append(s.calls, time.Since(s.start))
	r := s.script[min(len(s.calls), len(s.script))-1]
	if r == (Receipt{}) {
		return r, nil
	}
	return r, s.fail
}

func TestSendRetriesWithBackoffAndVendorWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := &scripted{start: time.Now(), fail: errors.New("busy"), script: []Receipt{
			{Retry: true},
			{Retry: true, RetryAfter: time.Minute},
			{},
		}}
		b := Backoff{Initial: 2 * time.Second, Max: 10 * time.Second, Attempts: 5}
		if _, err := Send(context.Background(), ch, &Message{}, b); err != nil {
			t.Fatal(err)
		}
		if len(ch.calls) != 3 {
			t.Fatalf("calls at %v", ch.calls)
		}
		first, second := ch.calls[1]-ch.calls[0], ch.calls[2]-ch.calls[1]
		if first < time.Second || first > 2*time.Second {
			t.Errorf("first wait %v, want within [1s, 2s]", first)
		}
		if second != time.Minute {
			t.Errorf("second wait %v, want the vendor's minute", second)
		}
	})
}

func TestSendStops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      Receipt
		calls  int
		gaveUp bool
	}{
		{"not retryable", Receipt{Retry: false, Answer: "x"}, 1, false},
		{"unknown outcome", Receipt{Retry: true, Unknown: true}, 1, false},
		{"attempts spent", Receipt{Retry: true}, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ch := &scripted{start: time.Now(), fail: errors.New("no"), script: []Receipt{tc.r}}
				_, err := Send(context.Background(), ch, &Message{}, Backoff{Attempts: 3})
				if err == nil || len(ch.calls) != tc.calls || errors.Is(err, ErrGaveUp) != tc.gaveUp {
					t.Errorf("%v after %d calls", err, len(ch.calls))
				}
			})
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ch := &scripted{start: time.Now(), fail: errors.New("busy"), script: []Receipt{{Retry: true, RetryAfter: time.Hour}}}
		_, err := Send(ctx, ch, &Message{}, Backoff{})
		if !errors.Is(err, context.DeadlineExceeded) || len(ch.calls) != 1 {
			t.Errorf("%v after %d calls", err, len(ch.calls))
		}
		if time.Since(ch.start) != 30*time.Second {
			t.Errorf("returned after %v", time.Since(ch.start))
		}
	})
}

func TestDelayGrowsToMax(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 8 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 8 * time.Second} {
		for range 20 {
			if d := b.Delay(n, Receipt{}); d < want/2 || d > want {
				t.Errorf("Delay(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
}
