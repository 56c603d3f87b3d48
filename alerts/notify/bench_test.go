package notify

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
)

// latencySink notes when each alarm's request arrived.
type latencySink struct {
	mu   sync.Mutex
	at   map[int]time.Time
	wake chan struct{}
}

func (s *latencySink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var p posted
	_ = jsonDecode(r, &p)
	s.mu.Lock()
	for _, a := range alarmName.FindAllString(p.Text, -1) {
		i, _ := strconv.Atoi(a[len("alarm-"):])
		if _, seen := s.at[i]; !seen {
			s.at[i] = now
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	_, _ = w.Write([]byte(`{"errcode":0}`))
}

func (s *latencySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at)
}

// benchNotifier starts a server and one notifier sending every alarm to
// one person through the real HTTP SMS gateway channel to a local sink.
func benchNotifier(b *testing.B) (*env, *latencySink) {
	e := newEnv(b)
	sk := &latencySink{at: map[int]time.Time{}, wake: make(chan struct{}, 1)}
	hs := httptest.NewServer(sk)
	b.Cleanup(hs.Close)
	src := `
storm: {window: 0s}
deadman: {silence: 0s}
channels:` + sinkChannel(hs.URL, "bench") + `
people:
  - {name: 张三, mobile: "13800138001", channels: [sink]}
routes:
  - levels: [{after: 0s, to: [张三]}]
    repeat: 0s
`
	c := mustParse(b, src, func(c *Config) { c.Channels[0].Rate = "" })
	c.Channels[0].rate = Rate{}
	e.start(b, c, nil, "bench")
	return e, sk
}

// BenchmarkAlarmToWebhook is the latency from an alarm stored on
// JetStream (its PubAck) to the gateway request at the sink, one alarm at
// a time; p50 and p99 are reported.
//
//	go test -run '^$' -bench AlarmToWebhook -benchtime 1000x ./alerts/notify
func BenchmarkAlarmToWebhook(b *testing.B) {
	e, sk := benchNotifier(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		e.fire(b, i, alerts.Critical, "bench")
		stored := time.Now()
		deadline := time.After(10 * time.Second)
		for sk.count() <= i {
			select {
			case <-sk.wake:
			case <-deadline:
				b.Fatalf("alarm %d not at the sink in 10s", i)
			}
		}
		sk.mu.Lock()
		lat = append(lat, sk.at[i].Sub(stored))
		sk.mu.Unlock()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSustained is the rate of notifications through the whole
// pipeline (stream, consumer, claim, channel, record) to a local sink: a
// batch of b.N alarms published at once, timed until the last arrived.
//
//	go test -run '^$' -bench Sustained -benchtime 2000x ./alerts/notify
func BenchmarkSustained(b *testing.B) {
	e, sk := benchNotifier(b)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		e.fire(b, i, alerts.Major, "bench")
	}
	deadline := time.After(5 * time.Minute)
	for sk.count() < b.N {
		select {
		case <-sk.wake:
		case <-deadline:
			b.Fatalf("%d of %d at the sink after 5m", sk.count(), b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "notifications/s")
}
