package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// maxPublishPending bounds the publishes awaiting the stream's ack.
const maxPublishPending = 4096

// A spool message is a batch: the sample sets of one site that arrived
// within Linger, as InfluxDB line protocol with timestamps in the
// writer's precision (schema.go), at most BatchBytes long, so that the
// Writer posts the messages' data as it is. Its headers name the format
// (with the precision: LineFormat) and how many sample sets it holds. One
// message per burst of polls instead of one per poll is what keeps the
// spool cheap: JetStream's cost is per message (publish, store, ack,
// fetch), InfluxDB's per request.
const (
	// HeaderFormat names the payload's format; a message without it, or
	// with another value, is dropped by the Writer as undecodable.
	HeaderFormat = "Roomwatch-Format"
	// FormatLineProtocol is line protocol with nanosecond timestamps;
	// LineFormat names the other precisions.
	FormatLineProtocol = formatPrefix + "ns" + formatSuffix
	// formatPrefix and formatSuffix enclose the precision in a format.
	formatPrefix = "influx-line-protocol;precision="
	formatSuffix = ";v1"
	// HeaderSets is how many sample sets a message holds.
	HeaderSets = "Roomwatch-Sets"
)

// Spool is the durable buffer between the collectors and InfluxDB: a
// JetStream stream with file storage, work-queue retention (a message
// leaves it when the Writer acknowledges it), MaxBytes and MaxAge limits
// and the discard-old policy. Publish never blocks: it appends the sample
// set to its site's open batch; a single goroutine seals the batches after
// Linger (or when one reaches BatchBytes) and publishes them
// asynchronously. Sealed batches wait in memory while NATS is slow or
// away; beyond Queue sample sets the oldest batch is dropped and counted.
type Spool struct {
	js  jetstream.JetStream
	cfg SpoolConfig
	log *slog.Logger
	m   *Metrics
	// format is the Roomwatch-Format of the messages (LineFormat).
	format string

	mu      sync.Mutex
	enc     *encoder
	open    map[string]*spoolMsg // site → batch being filled
	sealed  []spoolMsg           // oldest first
	sets    int                  // sample sets in open and sealed
	pending int                  // sample sets published, not yet acknowledged
	wake    chan struct{}        // a batch was opened
	full    chan struct{}        // a batch was sealed at BatchBytes
	lastErr error
	errAt   time.Time
	okAt    time.Time
	dropLog time.Time

	stop chan struct{}
	done chan struct{}
}

// spoolMsg is one batch.
type spoolMsg struct {
	subj string
	data []byte
	sets int
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
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	// A batch is sealed once it passes BatchBytes, so it may be one
	// sample set longer: keep it well under what the server accepts.
	if mp := yamlconf.Size(nc.MaxPayload()); mp > 0 && cfg.BatchBytes > mp/2 {
		cfg.BatchBytes = mp / 2
	}
	if cfg.Precision == "" {
		cfg.Precision = "ns"
	}
	unit, err := precisionUnit(cfg.Precision)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", cfg.Stream, err)
	}
	s := &Spool{cfg: cfg, log: log.With("stream", cfg.Stream), m: m,
		enc: &encoder{unit: int64(unit)}, format: LineFormat(cfg.Precision), open: make(map[string]*spoolMsg),
		wake: make(chan struct{}, 1), full: make(chan struct{}, 1),
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

// Subject returns the spool subject of a site's batches, <prefix>.<site>,
// the site sanitized: characters that NATS treats specially (., *, >,
// whitespace) become _, an empty site becomes _.
func Subject(prefix, site string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(site) + 1)
	b.WriteString(prefix)
	b.WriteByte('.')
	if site == "" {
		b.WriteByte('_')
	}
	for _, r := range site {
		switch {
		case r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Publish adds set to its site's batch and returns at once.
func (s *Spool) Publish(set collectors.SampleSet) {
	site := set.Device.Site
	s.mu.Lock()
	b := s.open[site]
	opened := b == nil
	if opened {
		b = &spoolMsg{subj: Subject(s.cfg.SubjectPrefix, site), data: make([]byte, 0, 4096)}
		s.open[site] = b
	}
	b.data, _ = s.enc.Append(b.data, &set)
	b.sets++
	s.sets++
	full := len(b.data) >= int(s.cfg.BatchBytes)
	if full {
		s.seal(site, b)
	}
	s.trim()
	s.m.queued.Set(float64(s.sets))
	s.mu.Unlock()
	if opened {
		signal(s.wake)
	}
	if full {
		signal(s.full)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// seal moves the open batch b of site to the sealed ones. s.mu is held.
func (s *Spool) seal(site string, b *spoolMsg) {
	delete(s.open, site)
	s.sealed = append(s.sealed, *b)
}

// sealAll seals every open batch.
func (s *Spool) sealAll() {
	s.mu.Lock()
	for site, b := range s.open {
		s.seal(site, b)
	}
	s.mu.Unlock()
}

// trim drops the oldest sealed batches while more than Queue sample sets
// wait. s.mu is held.
func (s *Spool) trim() {
	for s.sets > s.cfg.Queue && len(s.sealed) > 0 {
		s.sets -= s.sealed[0].sets
		s.sealed[0] = spoolMsg{}
		s.sealed = s.sealed[1:]
		s.m.drops.add(DropQueueFull, 1)
		if time.Since(s.dropLog) > 10*time.Second {
			s.dropLog = time.Now()
			s.log.Error("spool: in-memory queue full, dropping the oldest samples: NATS is not accepting them",
				"queue", s.cfg.Queue, "last_err", s.lastErr)
		}
	}
}

// takeSealed removes and returns the sealed batches, oldest first.
func (s *Spool) takeSealed() []spoolMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sealed
	s.sealed = nil
	for _, b := range out {
		s.sets -= b.sets
	}
	s.m.queued.Set(float64(s.sets))
	return out
}

// requeue puts batches that could not be published back in front of the
// sealed ones (they are older), then trims to the bound.
func (s *Spool) requeue(items []spoolMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = append(append(make([]spoolMsg, 0, len(items)+len(s.sealed)), items...), s.sealed...)
	for _, b := range items {
		s.sets += b.sets
	}
	s.trim()
	s.m.queued.Set(float64(s.sets))
}

// Start launches the publishing goroutine.
func (s *Spool) Start() { go s.run() }

// Stop publishes what is open or queued, waits until the stream
// acknowledged it or ctx ends, and stops the publishing goroutine. It
// returns how many sample sets were not stored: still queued when ctx
// ended, or handed back by a failed publish meanwhile.
func (s *Spool) Stop(ctx context.Context) (lost int) {
	close(s.stop)
	<-s.done
	s.sealAll()
	if items := s.takeSealed(); len(items) > 0 {
		if rest := s.publish(ctx, items); rest > 0 {
			s.requeue(items[len(items)-rest:])
		}
	}
	select {
	case <-s.js.PublishAsyncComplete():
	case <-ctx.Done():
	}
	s.mu.Lock()
	lost = s.sets + s.pending
	s.mu.Unlock()
	return lost
}

func (s *Spool) run() {
	defer close(s.done)
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
		items := s.takeSealed()
		if len(items) == 0 {
			if !s.collect() {
				return
			}
			continue
		}
		if rest := s.publish(ctx, items); rest > 0 {
			s.requeue(items[len(items)-rest:])
			select {
			case <-s.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// collect waits for a batch to open, lets it fill for Linger (less if a
// batch fills up), and seals the open batches. It reports false on Stop.
func (s *Spool) collect() bool {
	select {
	case <-s.stop:
		return false
	case <-s.wake:
	case <-s.full:
	}
	if s.cfg.Linger > 0 {
		t := time.NewTimer(s.cfg.Linger)
		select {
		case <-s.stop:
			t.Stop()
			return false
		case <-s.full:
			t.Stop()
		case <-t.C:
		}
	}
	s.sealAll()
	return true
}

// stallWait is how long PublishAsync waits for room among pending acks.
var stallWait = jetstream.WithStallWait(time.Second)

// publish hands items to PublishMsgAsync; it returns how many at the end
// of items were not handed over (too many pending acks, or ctx ended).
func (s *Spool) publish(ctx context.Context, items []spoolMsg) int {
	for i, b := range items {
		msg := &nats.Msg{Subject: b.subj, Data: b.data, Header: nats.Header{
			HeaderFormat: []string{s.format},
			HeaderSets:   []string{strconv.Itoa(b.sets)},
		}}
		for {
			_, err := s.js.PublishMsgAsync(msg, stallWait)
			if err == nil {
				s.mu.Lock()
				s.pending += b.sets
				s.mu.Unlock()
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

// LineFormat is the Roomwatch-Format of spooled line protocol with
// timestamps in precision (ns, us, ms or s).
func LineFormat(precision string) string {
	return formatPrefix + precision + formatSuffix
}

// LineUnit is the timestamp unit of spooled line protocol of format f
// (a message's Roomwatch-Format); false for another format.
func LineUnit(f string) (time.Duration, bool) {
	p, ok := strings.CutPrefix(f, formatPrefix)
	if !ok {
		return 0, false
	}
	if p, ok = strings.CutSuffix(p, formatSuffix); !ok {
		return 0, false
	}
	u, ok := precisions[p]
	return u, ok
}

// msgSets is the sample-set count in a spool message's header (1 when
// missing or malformed).
func msgSets(h nats.Header) int {
	n, err := strconv.Atoi(h.Get(HeaderSets))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// published is the ack handler: the stream stored a batch.
func (s *Spool) published(_ jetstream.JetStream, msg *nats.Msg, _ *jetstream.PubAck) {
	n := msgSets(msg.Header)
	s.m.published.Add(float64(n))
	s.mu.Lock()
	s.pending -= n
	s.okAt = time.Now()
	s.mu.Unlock()
}

// publishFailed is the async error handler: queue the batch again, after
// the sealed ones, moving its sample sets from pending to queued at once
// (Stop counts both).
func (s *Spool) publishFailed(_ jetstream.JetStream, msg *nats.Msg, err error) {
	s.m.publishErrors.Inc()
	s.setErr(err)
	n := msgSets(msg.Header)
	s.mu.Lock()
	s.pending -= n
	s.sealed = append(s.sealed, spoolMsg{subj: msg.Subject, data: msg.Data, sets: n})
	s.sets += n
	s.trim()
	s.m.queued.Set(float64(s.sets))
	s.mu.Unlock()
	signal(s.full)
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
// error, if any, was followed by a successful publish, and the batches
// waiting in memory hold less than half of Queue.
func (s *Spool) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil && !s.okAt.After(s.errAt) {
		return fmt.Errorf("spool %s: not writable: %w", s.cfg.Stream, s.lastErr)
	}
	waiting := s.sets // sealed: not the batches still lingering
	for _, b := range s.open {
		waiting -= b.sets
	}
	if waiting > s.cfg.Queue/2 {
		return fmt.Errorf("spool %s: %d samples queued in memory, the stream is not keeping up", s.cfg.Stream, waiting)
	}
	return nil
}
