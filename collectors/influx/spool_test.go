package influx

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// NATS gone: Publish never blocks, the queue keeps the newest samples,
// drops the oldest and counts them, and Healthy says so.
func TestSpoolQueueOverflow(t *testing.T) {
	s := runNATS(t)
	nc := connect(t, s)
	log, _ := newLog()
	m := NewMetrics(nil)
	cfg := DefaultSpoolConfig()
	cfg.Queue = 10
	cfg.BatchBytes = 1 // a message per sample set: the drops are counted in messages
	sp, err := NewSpool(nc, cfg, log, m)
	if err != nil {
		t.Fatal(err)
	}
	sp.Start()
	sp.Publish(envSet("th-1", 0))
	testutil.Eventually(t, time.Minute, "first sample stored", func() (bool, string) { return value(m.published) == 1, "" })
	if err := sp.Healthy(); err != nil {
		t.Errorf("Healthy: %v", err)
	}

	nc.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 25; i++ {
			sp.Publish(envSet("th-1", i))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked")
	}
	testutil.Eventually(t, time.Minute, "overflow counted", func() (bool, string) {
		d := m.drops.Of(DropQueueFull)
		return d == 15, fmt.Sprint(d)
	})
	testutil.Eventually(t, time.Minute, "Healthy to report the closed connection", func() (bool, string) {
		return sp.Healthy() != nil, "healthy"
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if lost := sp.Stop(ctx); lost != 10 {
		t.Errorf("Stop reports %d lost, want the 10 queued", lost)
	}
}

// Stop publishes what is lingering or queued before it returns; a burst
// of sample sets becomes a few messages.
func TestSpoolStopFlushes(t *testing.T) {
	sp, m, _ := startSpool(t)
	for i := range 5000 {
		sp.Publish(envSet("th-1", i))
	}
	if lost := sp.Stop(context.Background()); lost != 0 {
		t.Fatalf("lost %d", lost)
	}
	if n := value(m.published); n != 5000 {
		t.Fatalf("the stream acknowledged %v sample sets, want 5000", n)
	}
	st, err := EnsureStream(context.Background(), sp.js, DefaultSpoolConfig())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil || info.State.Msgs == 0 || info.State.Msgs > 5000/100 {
		t.Fatalf("stream holds %+v, %v; want the 5000 sample sets in batches of hundreds", info.State, err)
	}
}

// TestSpoolKeepsSetWithNaN: a float sensor answering NaN is a sensor
// fault, not a reason to lose the device's other values.
func TestSpoolKeepsSetWithNaN(t *testing.T) {
	sp, m, _ := startSpool(t)
	set := envSet("th-1", 0)
	set.Values = append(set.Values, collectors.Value{Name: "pressure_pa", Num: math.NaN(), Quality: collectors.SensorFault, Err: "NaN"})
	sp.Publish(set)
	if lost := sp.Stop(context.Background()); lost != 0 {
		t.Fatalf("lost %d", lost)
	}
	if d := m.Dropped(); d != 0 {
		t.Fatalf("dropped %v sample sets, want none", d)
	}
	if !math.IsNaN(set.Values[len(set.Values)-1].Num) {
		t.Fatal("the caller's values were changed")
	}
	st, err := EnsureStream(context.Background(), sp.js, DefaultSpoolConfig())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream holds %+v, %v; want the one sample set", info.State, err)
	}
}

// startSpool starts a spool with the default configuration on a fresh
// embedded server (its options changed by edit); the log is returned too.
func startSpool(t *testing.T, edit ...func(*server.Options)) (*Spool, *Metrics, *logBuf) {
	t.Helper()
	nc := connect(t, runNATS(t, edit...))
	log, logs := newLog()
	m := NewMetrics(nil)
	sp, err := NewSpool(nc, DefaultSpoolConfig(), log, m)
	if err != nil {
		t.Fatal(err)
	}
	sp.Start()
	return sp, m, logs
}

// A server that takes smaller messages than a default batch (an external
// one with a low max_payload): batches are cut to fit, nothing is lost.
func TestSpoolFitsMaxPayload(t *testing.T) {
	sp, m, logs := startSpool(t, func(o *server.Options) { o.MaxPayload = 8 << 10 })
	for i := range 500 {
		sp.Publish(envSet("th-1", i))
	}
	if lost := sp.Stop(context.Background()); lost != 0 {
		t.Fatalf("lost %d\n%s", lost, logs)
	}
	if n, d := value(m.published), m.Dropped(); n != 500 || d != 0 {
		t.Fatalf("stored %v sample sets and dropped %v, want 500 and 0\n%s", n, d, logs)
	}
	if e := value(m.publishErrors); e != 0 {
		t.Errorf("%v publish errors\n%s", e, logs)
	}
}
