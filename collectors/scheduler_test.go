package collectors

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

type fakePoller struct {
	dev       Device
	delay     time.Duration // how long a poll takes, ignoring ctx when ignoreCtx
	hang      bool          // block until ctx ends
	ignoreCtx bool
	polls     atomic.Int32
	closed    atomic.Bool
}

func (p *fakePoller) Poll(ctx context.Context) (SampleSet, error) {
	p.polls.Add(1)
	start := time.Now()
	switch {
	case p.hang:
		<-ctx.Done()
		err := ctx.Err()
		return Failed(p.dev, start, time.Since(start), []ValueSpec{{Name: "temperature_c"}}, err), err
	case p.ignoreCtx:
		time.Sleep(p.delay)
	}
	return SampleSet{Device: p.dev, Time: start, Values: []Value{{Name: "temperature_c", Num: 22}}}, nil
}

func (p *fakePoller) Close() error { p.closed.Store(true); return nil }

type recorder struct {
	mu      sync.Mutex
	sets    map[string][]SampleSet
	skipped map[string]int
}

func (r *recorder) sink(s SampleSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sets[s.Device.Name] = append(r.sets[s.Device.Name], s)
}
func (r *recorder) get(device string) []SampleSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SampleSet(nil), r.sets[device]...)
}
func (r *recorder) Polled(*SampleSet, error) {}
func (r *recorder) Skipped(d Device, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped[d.Name] += n
}

func job(name string, p *fakePoller, interval, timeout time.Duration) Job {
	dev := Device{Site: "s", Room: "r", Name: name}
	p.dev = dev
	return Job{Config: DeviceConfig{Device: dev, Interval: interval, Timeout: timeout}, Poller: p}
}

func TestHungDeviceDoesNotDelayHealthyOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{sets: map[string][]SampleSet{}, skipped: map[string]int{}}
		s := NewScheduler(rec.sink, 0, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.Set([]Job{
			job("hung", &fakePoller{hang: true}, time.Second, 800*time.Millisecond),
			job("healthy", &fakePoller{}, time.Second, 800*time.Millisecond),
		})
		time.Sleep(10*time.Second + 500*time.Millisecond)
		s.Stop()

		healthy := rec.sets["healthy"]
		want := 10
		if Offset("s/r/healthy", time.Second) < 500*time.Millisecond {
			want = 11
		}
		if len(healthy) != want {
			t.Fatalf("healthy device polled %d times in 10.5 s, want %d", len(healthy), want)
		}
		for i := 1; i < len(healthy); i++ {
			if d := healthy[i].Time.Sub(healthy[i-1].Time); d != time.Second {
				t.Errorf("healthy poll %d came %v after the previous, want exactly 1s", i, d)
			}
		}
		hung := rec.sets["hung"]
		if len(hung) == 0 {
			t.Fatal("hung device produced no sample sets; a failed poll must be data")
		}
		for _, h := range hung {
			if h.Reachable() || h.Values[0].Quality != CommsLost {
				t.Fatalf("hung device set = %+v, want comms-lost", h)
			}
			if h.Duration != 800*time.Millisecond {
				t.Errorf("hung poll took %v, want its 800ms deadline", h.Duration)
			}
		}
		if rec.skipped["healthy"] != 0 || rec.skipped["hung"] != 0 {
			t.Errorf("skipped = %v, want none", rec.skipped)
		}
	})
}

func TestOverrunSkipsAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{sets: map[string][]SampleSet{}, skipped: map[string]int{}}
		s := NewScheduler(rec.sink, 0, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.Set([]Job{job("slow", &fakePoller{ignoreCtx: true, delay: 2500 * time.Millisecond}, time.Second, time.Second)})
		// Polls start at offset o, o+3s, o+6s… and each takes 2.5 s.
		o := Offset("s/r/slow", time.Second)
		time.Sleep(o + 8*time.Second + 600*time.Millisecond)
		s.Stop()
		if got := len(rec.sets["slow"]); got != 3 {
			t.Errorf("slow device finished %d polls, want 3 (one every 3 s)", got)
		}
		if got := rec.skipped["slow"]; got != 6 {
			t.Errorf("skipped ticks = %d, want 2 per poll", got)
		}
	})
}

type panicPoller struct{}

func (panicPoller) Poll(context.Context) (SampleSet, error) { panic("index out of range") }
func (panicPoller) Close() error                            { return nil }

func TestPanickingPollerBecomesCommsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{sets: map[string][]SampleSet{}, skipped: map[string]int{}}
		s := NewScheduler(rec.sink, 0, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		dev := Device{Site: "s", Room: "r", Name: "garbage"}
		s.Set([]Job{{Config: DeviceConfig{Device: dev, Interval: time.Second}, Poller: panicPoller{}, Specs: []ValueSpec{{Name: "door_open", Kind: Bool}}}})
		time.Sleep(2 * time.Second)
		s.Stop()
		got := rec.sets["garbage"]
		if len(got) == 0 || got[0].Values[0].Quality != CommsLost || got[0].Err == "" {
			t.Fatalf("sets = %+v, want comms-lost with an error", got)
		}
	})
}

// TestSetKeepsUnchangedAndRestartsChanged: a reload with an unchanged
// device keeps its running loop (its poller, its phase; the poller passed
// again is closed unused); a changed device stops its old poller and
// runs the new one on the new interval; a device left out stops.
func TestSetKeepsUnchangedAndRestartsChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{sets: map[string][]SampleSet{}, skipped: map[string]int{}}
		s := NewScheduler(rec.sink, 0, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		pa, pb := &fakePoller{}, &fakePoller{}
		a, b := job("a", pa, time.Second, 0), job("b", pb, time.Second, 0)
		s.Set([]Job{a, b})
		time.Sleep(3500 * time.Millisecond) // polls at 0, 1, 2, 3 s

		pa2, pb2 := &fakePoller{}, &fakePoller{}
		s.Set([]Job{job("a", pa2, time.Second, 0), job("b", pb2, 2*time.Second, 0)})
		if n := len(s.Devices()); n != 2 {
			t.Fatalf("devices = %d, want 2", n)
		}
		if !pa2.closed.Load() || pa.closed.Load() {
			t.Fatalf("unchanged device: old poller closed %v, new one closed %v; want the old kept, the new closed", pa.closed.Load(), pa2.closed.Load())
		}
		if !pb.closed.Load() || pb2.closed.Load() {
			t.Fatalf("changed device: old poller closed %v, new one closed %v; want the old closed, the new running", pb.closed.Load(), pb2.closed.Load())
		}
		time.Sleep(4 * time.Second) // until 7.5 s

		// a kept its loop: eight polls by its first poller, one second
		// apart across the reload.
		if got := pa.polls.Load(); got != 8 || pa2.polls.Load() != 0 {
			t.Errorf("a polled %d times by its first poller and %d by the second, want 8 and 0", got, pa2.polls.Load())
		}
		checkSpacing(t, rec.get("a"), time.Second)
		// b restarted: its old poller stopped at the reload, the new one
		// polls every 2 s.
		if got := pb.polls.Load(); got != 4 {
			t.Errorf("b's first poller polled %d times, want 4 (0-3 s)", got)
		}
		if got := pb2.polls.Load(); got != 2 {
			t.Errorf("b's new poller polled %d times in 4 s, want 2 (every 2 s)", got)
		}
		bs := rec.get("b")
		checkSpacing(t, bs[len(bs)-2:], 2*time.Second)

		s.Set([]Job{job("b", &fakePoller{}, 2*time.Second, 0)})
		if d := s.Devices(); len(d) != 1 || d[0].Name != "b" {
			t.Fatalf("devices = %v, want only b", d)
		}
		if !pa.closed.Load() {
			t.Error("a left the configuration but its poller is open")
		}
		s.Stop()
		if !pb2.closed.Load() {
			t.Error("Stop left b's poller open")
		}
	})
}

// checkSpacing fails unless consecutive sets are exactly d apart.
func checkSpacing(t *testing.T, sets []SampleSet, d time.Duration) {
	t.Helper()
	for i := 1; i < len(sets); i++ {
		if got := sets[i].Time.Sub(sets[i-1].Time); got != d {
			t.Errorf("%s: poll %d came %v after the previous, want %v", sets[i].Device.Name, i, got, d)
		}
	}
}

func TestOffsetSlots(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := range 200 {
		off := Offset(string(rune('a'+i%26))+string(rune('a'+i/26)), 10*time.Second)
		if off%PhaseGrain != 0 || off < 0 || off >= 10*time.Second {
			t.Fatalf("offset %v is not a whole slot of a 10s interval", off)
		}
		seen[off] = true
	}
	if len(seen) < 8 {
		t.Errorf("200 devices use only %d of 10 slots", len(seen))
	}
	if off := Offset("x", 200*time.Millisecond); off != 0 {
		t.Errorf("a 200ms interval has one slot, got offset %v", off)
	}
	now := time.Date(2026, 11, 25, 3, 0, 0, 300e6, time.UTC)
	if got := firstTick(now, 10*time.Second, 2*time.Second); !got.Equal(time.Date(2026, 11, 25, 3, 0, 2, 0, time.UTC)) {
		t.Errorf("firstTick = %v", got)
	}
	if got := firstTick(now, time.Second, 0); !got.Equal(time.Date(2026, 11, 25, 3, 0, 1, 0, time.UTC)) {
		t.Errorf("firstTick = %v", got)
	}
}
