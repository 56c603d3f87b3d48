package patrol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
)

// source reads what the monitor and the notifier wrote: daily records,
// alarm states, delivery records. Every read is from NATS; InfluxDB is
// never asked.
type source struct {
	js     jetstream.JetStream
	dailyB string
	stateB string

	mu    sync.Mutex
	daily jetstream.KeyValue
	state jetstream.KeyValue
}

// bucket opens a bucket lazily: the monitor creates them, and the screen
// may start first.
func (s *source) bucket(ctx context.Context, name string, p *jetstream.KeyValue) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *p != nil {
		return *p, nil
	}
	kv, err := s.js.KeyValue(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	*p = kv
	return kv, nil
}

// record returns the daily record of site/room on date and its bytes as
// stored; nil, nil when there is none (yet).
func (s *source) record(ctx context.Context, site, room, date string) (*daily.Record, []byte, error) {
	kv, err := s.bucket(ctx, s.dailyB, &s.daily)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	e, err := kv.Get(ctx, alerts.DailyKey(site, room, date))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("daily record %s/%s/%s: %w", site, room, date, err)
	}
	rec, err := daily.Unmarshal(e.Value())
	if err != nil {
		return nil, nil, err
	}
	return rec, e.Value(), nil
}

// alarms returns every alarm in the state bucket (latest per
// fingerprint).
func (s *source) alarms(ctx context.Context) ([]*alerts.Alarm, error) {
	kv, err := s.bucket(ctx, s.stateB, &s.state)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return alerts.List(ctx, kv)
}

// deliveries returns the notifier's delivery records of site/room since
// from; none when the notifier never ran (no stream).
func (s *source) deliveries(ctx context.Context, site, room string, from, to time.Time) ([]alerts.Delivery, error) {
	st, err := s.js.Stream(ctx, alerts.DeliveryStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", alerts.DeliveryStream, err)
	}
	subj := alerts.DeliverySubject(site, room)
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return nil, fmt.Errorf("stream %s: info: %w", alerts.DeliveryStream, err)
	}
	if info.State.Subjects[subj] == 0 {
		return nil, nil
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subj},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy, OptStartTime: &from,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: consumer: %w", alerts.DeliveryStream, err)
	}
	// The subject's count includes messages before from; ask for no
	// more than it, so a fetch ends with the last message.
	total := info.State.Subjects[subj]
	var out []alerts.Delivery
	for seen := uint64(0); seen < total; {
		batch, err := c.Fetch(int(min(total-seen, 200)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return out, fmt.Errorf("stream %s: fetch: %w", alerts.DeliveryStream, err)
		}
		n := 0
		var pending uint64
		for m := range batch.Messages() {
			n++
			seen++
			if md, _ := m.Metadata(); md != nil {
				pending = md.NumPending
			}
			var d alerts.Delivery
			if err := json.Unmarshal(m.Data(), &d); err != nil {
				continue
			}
			if d.At.Before(to) {
				out = append(out, d)
			}
		}
		if n == 0 || pending == 0 {
			break
		}
	}
	return out, nil
}

// hub tells the live pages that something changed: a daily record, an
// alarm state or a signature. It watches the buckets and coalesces
// changes to at most one notice a second.
type hub struct {
	log *slog.Logger

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
	// gen counts the notices: a reading cached under an older gen is
	// out of date.
	gen uint64
}

// generation is the number of notices so far.
func (h *hub) generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

func newHub(log *slog.Logger) *hub { return &hub{log: log, subs: map[chan struct{}]struct{}{}} }

func (h *hub) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *hub) unsubscribe(ch chan struct{}) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

func (h *hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// watch follows the buckets until ctx ends, retrying a bucket that does
// not exist yet.
func (h *hub) watch(ctx context.Context, js jetstream.JetStream, buckets []string) {
	changed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for _, b := range buckets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.watchBucket(ctx, js, b, changed)
		}()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	dirty := false
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-changed:
			dirty = true
		case <-t.C:
			if dirty {
				dirty = false
				h.notify()
			}
		}
	}
}

func (h *hub) watchBucket(ctx context.Context, js jetstream.JetStream, bucket string, changed chan<- struct{}) {
	for ctx.Err() == nil {
		kv, err := js.KeyValue(ctx, bucket)
		if err == nil {
			var w jetstream.KeyWatcher
			w, err = kv.WatchAll(ctx, jetstream.UpdatesOnly())
			if err == nil {
				for e := range w.Updates() {
					if e == nil {
						continue
					}
					select {
					case changed <- struct{}{}:
					default:
					}
				}
				_ = w.Stop()
			}
		}
		if err != nil && ctx.Err() == nil {
			h.log.Debug("live updates: bucket not watched yet", "bucket", bucket, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
