package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors"
)

// maxPublishPending bounds the publishes awaiting the stream's ack.
const maxPublishPending = 4096

// Spool is the durable buffer between the collectors and InfluxDB: a
// JetStream stream with file storage, work-queue retention (a sample
// leaves it when the Writer acknowledges it), MaxBytes and MaxAge limits
// and the discard-old policy. Publish never blocks: SampleSets wait in a
// bounded in-memory queue that a single goroutine publishes asynchronously;
// if the queue overflows, its oldest entry is dropped and counted.
type Spool struct {
	js  jetstream.JetStream
	cfg SpoolConfig
	log *slog.Logger
	m   *Metrics

	mu      sync.Mutex
	queue   []queued // ring buffer
	head, n int
	wake    chan struct{}
	lastErr error
	errAt   time.Time
	okAt    time.Time
	dropLog time.Time

	stop chan struct{}
	done chan struct{}
}

type queued struct {
	subj string
	data []byte
}

// NewSpool creates or updates the spool stream on the JetStream server
// behind nc (with a 10 s deadline) and returns a Spool ready to Start.
func NewSpool(nc *nats.Conn, cfg SpoolConfig, log *slog.Logger, m *Metrics) (*Spool, error) {
	if m == nil {
		m = NewMetrics(nil)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	s := &Spool{cfg: cfg, log: log.With("stream", cfg.Stream), m: m,
		queue: make([]queued, cfg.Queue), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(maxPublishPending),
		jetstream.WithPublishAsyncTimeout(10*time.Second),
		jetstream.WithPublishAsyncErrHandler(s.publishFailed),
		jetstream.WithPublishAsyncAckHandler(s.published))
	if err != nil {
		return nil, fmt.Errorf("spool %s: jetstream: %w", cfg.Stream, err)
	}
	s.js = js
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := EnsureStream(ctx, js, cfg); err != nil {
		return nil, err
	}
	m.maxBytes.Set(float64(cfg.MaxBytes))
	return s, nil
}

// StreamConfig is the JetStream configuration of the spool stream.
func StreamConfig(cfg SpoolConfig) jetstream.StreamConfig {
	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "roomwatch samples waiting for InfluxDB",
		Subjects:    []string{cfg.SubjectPrefix + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxBytes:    int64(cfg.MaxBytes),
		MaxAge:      cfg.MaxAge,
		MaxMsgs:     -1,
		Replicas:    1,
	}
	if sc.MaxBytes == 0 {
		sc.MaxBytes = -1
	}
	if cfg.Persist == "async" {
		sc.PersistMode = jetstream.AsyncPersistMode
	}
	return sc
}

// EnsureStream creates the spool stream or updates its limits.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg SpoolConfig) (jetstream.Stream, error) {
	st, err := js.CreateOrUpdateStream(ctx, StreamConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("spool %s: create stream (max_bytes %s): %w", cfg.Stream, cfg.MaxBytes, err)
	}
	return st, nil
}

// Subject returns the spool subject of a device:
// <prefix>.<site>.<room>.<device>, each token sanitized.
func Subject(prefix string, d collectors.Device) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(d.Site) + len(d.Room) + len(d.Name) + 3)
	b.WriteString(prefix)
	for _, t := range [...]string{d.Site, d.Room, d.Name} {
		b.WriteByte('.')
		writeToken(&b, t)
	}
	return b.String()
}

// writeToken writes s as one subject token: characters that NATS treats
// specially (., *, >, whitespace) become _, an empty token becomes _.
func writeToken(b *strings.Builder, s string) {
	if s == "" {
		b.WriteByte('_')
		return
	}
	for _, r := range s {
		switch {
		case r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
}

// Publish queues s for the spool and returns at once. When the queue is
// full the oldest queued sample is dropped and counted.
func (s *Spool) Publish(set collectors.SampleSet) {
	data, ok := appendJSON(make([]byte, 0, 256+128*len(set.Values)), &set)
	if !ok {
		// JSON cannot carry NaN or ±Inf, which a faulty float sensor sends.
		set.Values = finiteNums(set.Values)
		data, ok = appendJSON(data[:0], &set)
	}
	if !ok {
		var err error
		if data, err = set.Marshal(); err != nil { // a NaN, a year beyond 9999
			s.log.Error("spool: encode sample set, dropped", "device", set.Device.ID(), "err", err)
			s.m.dropped.WithLabelValues(DropUndecodable).Inc()
			return
		}
	}
	s.enqueue(queued{subj: Subject(s.cfg.SubjectPrefix, set.Device), data: data})
}

func (s *Spool) enqueue(q queued) {
	s.mu.Lock()
	if s.n == len(s.queue) {
		s.head = (s.head + 1) % len(s.queue)
		s.n--
		s.m.dropped.WithLabelValues(DropQueueFull).Inc()
		if time.Since(s.dropLog) > 10*time.Second {
			s.dropLog = time.Now()
			s.log.Error("spool: in-memory queue full, dropping the oldest samples: NATS is not accepting them",
				"queue", len(s.queue), "last_err", s.lastErr)
		}
	}
	s.queue[(s.head+s.n)%len(s.queue)] = q
	s.n++
	s.m.queued.Set(float64(s.n))
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pop removes up to len(out) queued entries into out.
func (s *Spool) pop(out []queued) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := 0
	for k < len(out) && s.n > 0 {
		out[k] = s.queue[s.head]
		s.queue[s.head] = queued{}
		s.head = (s.head + 1) % len(s.queue)
		s.n--
		k++
	}
	s.m.queued.Set(float64(s.n))
	return k
}

// pushFront returns entries that could not be published to the queue's head.
func (s *Spool) pushFront(items []queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(items) - 1; i >= 0; i-- {
		if s.n == len(s.queue) {
			// Full: the returned entries are the oldest, drop them.
			s.m.dropped.WithLabelValues(DropQueueFull).Inc()
			continue
		}
		s.head = (s.head - 1 + len(s.queue)) % len(s.queue)
		s.queue[s.head] = items[i]
		s.n++
	}
	s.m.queued.Set(float64(s.n))
}

// Start launches the publishing goroutine.
func (s *Spool) Start() { go s.run() }

// Stop publishes what is queued, waits until the stream acknowledged it or
// ctx ends, and stops the publishing goroutine. Samples still queued when
// ctx ends are lost; it returns how many.
func (s *Spool) Stop(ctx context.Context) (lost int) {
	close(s.stop)
	<-s.done
	buf := make([]queued, 256)
	for k := s.pop(buf); k > 0; k = s.pop(buf) {
		if lost = s.publish(ctx, buf[:k]); lost > 0 {
			break
		}
	}
	select {
	case <-s.js.PublishAsyncComplete():
	case <-ctx.Done():
		lost += s.js.PublishAsyncPending()
	}
	// Never handed over, or handed back by publishFailed while we waited.
	s.mu.Lock()
	lost += s.n
	s.mu.Unlock()
	return lost
}

// finiteNums copies vs with every NaN or infinite Num set to 0, a value
// that is Good becoming a sensor fault; the writer writes no number for a
// value that is not Good. A copy: the rules engine shares the slice.
func finiteNums(vs []collectors.Value) []collectors.Value {
	out := slices.Clone(vs)
	for i := range out {
		if v := &out[i]; !finite(v.Num) {
			v.Num = 0
			if v.Quality == collectors.Good {
				v.Quality, v.Err = collectors.SensorFault, "not a finite number"
			}
		}
	}
	return out
}

func (s *Spool) run() {
	defer close(s.done)
	buf := make([]queued, 256)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		k := s.pop(buf)
		if k == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		if rest := s.publish(ctx, buf[:k]); rest > 0 {
			s.pushFront(buf[k-rest : k])
			select {
			case <-s.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// stallWait is how long PublishAsync waits for room among pending acks.
var stallWait = jetstream.WithStallWait(time.Second)

// publish hands items to PublishAsync; it returns how many at the end of
// items were not handed over (too many pending acks, or ctx ended).
func (s *Spool) publish(ctx context.Context, items []queued) int {
	for i, q := range items {
		for {
			_, err := s.js.PublishAsync(q.subj, q.data, stallWait)
			if err == nil {
				break
			}
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && ctx.Err() == nil {
				continue // acks are slow: wait for room
			}
			if ctx.Err() == nil {
				s.setErr(err) // disconnected, closed: keep the samples queued
			}
			return len(items) - i
		}
	}
	return 0
}

// published is the ack handler: the stream stored a sample.
func (s *Spool) published(_ jetstream.JetStream, _ *nats.Msg, _ *jetstream.PubAck) {
	s.m.published.Inc()
	s.mu.Lock()
	s.okAt = time.Now()
	s.mu.Unlock()
}

// publishFailed is the async error handler: queue the sample again.
func (s *Spool) publishFailed(_ jetstream.JetStream, msg *nats.Msg, err error) {
	s.m.publishErrors.Inc()
	s.setErr(err)
	s.enqueue(queued{subj: msg.Subject, data: msg.Data})
}

func (s *Spool) setErr(err error) {
	s.mu.Lock()
	if s.errAt.IsZero() || time.Since(s.errAt) > 10*time.Second {
		s.log.Warn("spool: publish failed, samples stay queued", "err", err)
	}
	s.lastErr, s.errAt = err, time.Now()
	s.mu.Unlock()
}

// Healthy returns nil when the spool accepts samples: the last publish
// error, if any, was followed by a successful publish, and the in-memory
// queue is less than half full.
func (s *Spool) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil && !s.okAt.After(s.errAt) {
		return fmt.Errorf("spool %s: not writable: %w", s.cfg.Stream, s.lastErr)
	}
	if s.n > len(s.queue)/2 {
		return fmt.Errorf("spool %s: %d samples queued in memory, the stream is not keeping up", s.cfg.Stream, s.n)
	}
	return nil
}
