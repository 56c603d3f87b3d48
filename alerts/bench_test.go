package alerts

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/rules"
)

// transition returns the i-th distinct firing transition (its own
// fingerprint, so nothing is deduplicated).
func transition(i int) rules.Transition {
	tr := firingTransition()
	tr.Alert.Fingerprint = fmt.Sprintf("fp-%08d", i)
	tr.Alert.FiredAt = fired.Add(time.Duration(i) * time.Millisecond)
	tr.At = tr.Alert.FiredAt
	return tr
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// BenchmarkPublishLatency measures, one alarm at a time, the latency from
// handing a transition over to JetStream's PubAck:
//
//   - stream: FromTransition + publish with Nats-Msg-Id → PubAck
//   - with-state: the same plus the state bucket write (Publisher.Publish)
//   - handle: Publisher.Handle (what the rules engine calls: it returns
//     once JetStream stored the alarm), with the StateApplier writing the
//     state bucket alongside
//
// each with the server's default sync interval and with sync_always.
//
//	go test -run '^$' -bench BenchmarkPublishLatency -benchtime 2000x ./alerts/
func BenchmarkPublishLatency(b *testing.B) {
	for _, syncAlways := range []bool{false, true} {
		name := "sync=interval"
		if syncAlways {
			name = "sync=always"
		}
		// syncOpt makes the server fsync every write, or not.
		syncOpt := func(o *server.Options) { o.SyncAlways = syncAlways }
		for _, withState := range []bool{false, true} {
			sub := "/stream"
			if withState {
				sub = "/with-state"
			}
			b.Run(name+sub, func(b *testing.B) {
				_, _, js, kv := setup(b, "main", syncOpt)
				p := NewPublisher(js, kv, PublisherOptions{}, nil)
				publish := func(ctx context.Context, a *Alarm) (*jetstream.PubAck, error) { return p.publishStream(ctx, a, "") }
				if withState {
					publish = p.Publish
				}
				ctx := context.Background()
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					start := time.Now()
					if _, err := publish(ctx, FromTransition(transition(i))); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				report(b, lat)
			})
		}
		b.Run(name+"/handle", func(b *testing.B) {
			_, _, js, kv := setup(b, "main", syncOpt)
			var acked time.Duration
			p := NewPublisher(js, kv, PublisherOptions{OnAck: func(_ *Alarm, _ *jetstream.PubAck, d time.Duration) {
				acked = d
			}}, nil)
			ap := NewStateApplier(js, kv, DefaultConfig(), []string{"main"}, nil)
			if err := ap.CatchUp(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := ap.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(ap.Stop)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				acked = 0
				p.Handle([]rules.Transition{transition(i)})
				if acked == 0 {
					b.Fatal("Handle returned before the alarm was stored")
				}
				lat = append(lat, acked)
			}
			report(b, lat)
		})
	}
}
