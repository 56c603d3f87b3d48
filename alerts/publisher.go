package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// PublisherOptions tune a Publisher. Zero fields take the defaults.
type PublisherOptions struct {
	// QueueSize bounds the alarms waiting to be published (default 1024).
	// When it is full the oldest waiting alarm is dropped, counted and
	// logged.
	QueueSize int
	// MinBackoff and MaxBackoff bound the wait between attempts
	// (defaults 50 ms and 5 s); an alarm is retried until Stop's deadline.
	MinBackoff, MaxBackoff time.Duration
	// SyncTimeout bounds how long Handle waits for JetStream to store
	// an alarm (default 5 s). An alarm not stored by then, and every
	// alarm handed over while earlier ones wait, goes to the publishing
	// goroutine, which retries it: the engine is never held longer than
	// this by a NATS outage.
	SyncTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnAck, if set, is called after each alarm was stored by JetStream
	// (from Handle or from the publishing goroutine), with the time from
	// Handle or Enqueue to PubAck.
	OnAck func(a *Alarm, ack *jetstream.PubAck, latency time.Duration)
}

type item struct {
	a      *Alarm
	handed time.Time
}

// Stats are the Publisher's counters.
type Stats struct {
	Enqueued, Published, Duplicates, Retries, Dropped, Failed uint64
}

// Publisher publishes alarms to their site's stream. Handle, what the
// rules engine calls, returns once JetStream stored its alarms (sync_always
// on the embedded server: on disk), so a transition the engine decided is
// durable before the engine evaluates anything else, and before the
// sample set that caused it goes to the spool; only when that takes
// longer than SyncTimeout does the alarm wait in memory for the
// publishing goroutine. The state bucket follows the stream (see
// StateApplier); Publish also writes it, for callers without one.
type Publisher struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	log *slog.Logger
	opt PublisherOptions

	queue chan item
	// backlog counts alarms enqueued and not yet processed: while it is
	// above zero Handle enqueues too, so alarms keep their order.
	backlog atomic.Int64
	// mu serialises Enqueue's drop-oldest-then-send.
	mu sync.Mutex

	startOnce, stopOnce sync.Once
	stop                chan struct{}
	done                chan struct{}
	cancel              context.CancelFunc

	enqueued, published, duplicates, retries, dropped, failed atomic.Uint64

	latency    prometheus.Histogram
	counters   *prometheus.CounterVec
	queueGauge prometheus.GaugeFunc
}

// NewPublisher returns a Publisher writing to js and the state bucket kv.
func NewPublisher(js jetstream.JetStream, kv jetstream.KeyValue, opt PublisherOptions, log *slog.Logger) *Publisher {
	if opt.QueueSize <= 0 {
		opt.QueueSize = 1024
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 50 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(5*time.Second, opt.MinBackoff)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SyncTimeout <= 0 {
		opt.SyncTimeout = 5 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{
		js: js, kv: kv, log: log.With("component", "alarm-publisher"), opt: opt,
		queue: make(chan item, opt.QueueSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomwatch_alarm_publish_latency_seconds",
			Help:    "Time from handing an alarm to the publisher to its JetStream acknowledgement.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, 1, 5, 30},
		}),
		counters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_alarm_publish_total",
			Help: "Alarm messages by outcome: published, duplicate, retry, dropped (queue full), failed (given up at stop).",
		}, []string{"outcome"}),
	}
	p.queueGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomwatch_alarm_publish_queue",
		Help: "Alarms waiting to be published.",
	}, func() float64 { return float64(len(p.queue)) })
	return p
}

// Collectors returns the Publisher's Prometheus metrics for the caller to
// register.
func (p *Publisher) Collectors() []prometheus.Collector {
	return []prometheus.Collector{p.latency, p.counters, p.queueGauge}
}

// Stats returns the counters so far.
func (p *Publisher) Stats() Stats {
	return Stats{
		Enqueued: p.enqueued.Load(), Published: p.published.Load(), Duplicates: p.duplicates.Load(),
		Retries: p.retries.Load(), Dropped: p.dropped.Load(), Failed: p.failed.Load(),
	}
}

// Publish publishes a to its subject with a Nats-Msg-Id (Alarm.MsgID), so
// the same transition published twice is stored once, then records it in
// the state bucket. Missing schema, version and id are filled in. On a
// state bucket error the PubAck is returned with the error.
func (p *Publisher) Publish(ctx context.Context, a *Alarm) (*jetstream.PubAck, error) {
	return p.publishWithID(ctx, a, "")
}

// PublishAcknowledged publishes a, which an acknowledgement just changed
// (Acknowledge), as the acknowledgement's own message: its Nats-Msg-Id is
// AckMsgID, so it is stored even when a resolved alarm is acknowledged
// (the resolution's message id is taken), and stored once.
func (p *Publisher) PublishAcknowledged(ctx context.Context, a *Alarm) (*jetstream.PubAck, error) {
	return p.publishWithID(ctx, a, a.AckMsgID())
}

func (p *Publisher) publishWithID(ctx context.Context, a *Alarm, id string) (*jetstream.PubAck, error) {
	ack, err := p.publishStream(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if err := p.storeState(ctx, a); err != nil {
		return ack, err
	}
	return ack, nil
}

func normalize(a *Alarm) {
	if a.Schema == "" {
		a.Schema = Schema
	}
	if a.V == 0 {
		a.V = V
	}
	if a.ID == "" {
		a.ID = OccurrenceID(a.Fingerprint, a.StartedAt)
	}
}

// publishStream publishes a with message id id (a.MsgID() when empty).
func (p *Publisher) publishStream(ctx context.Context, a *Alarm, id string) (*jetstream.PubAck, error) {
	normalize(a)
	p.mergeAck(ctx, a)
	if id == "" {
		id = a.MsgID()
	}
	data, err := a.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	msg := nats.NewMsg(a.Subject())
	msg.Data = data
	msg.Header.Set("Roomwatch-Schema", Schema)
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
	if err != nil {
		return nil, fmt.Errorf("alarm %s: publish to %s: %w", a.ID, msg.Subject, err)
	}
	if ack.Duplicate {
		p.duplicates.Add(1)
		p.counters.WithLabelValues("duplicate").Inc()
	} else {
		p.published.Add(1)
		p.counters.WithLabelValues("published").Inc()
	}
	return ack, nil
}

// mergeAck copies into a resolution the acknowledgement a consumer stored
// for the same occurrence, so the resolved message says who reacted. It
// is best effort: without the bucket the message goes out as it is.
func (p *Publisher) mergeAck(ctx context.Context, a *Alarm) {
	if p.kv == nil || a.State != Resolved || a.AckAt != nil {
		return
	}
	e, err := p.kv.Get(ctx, a.Key())
	if err != nil {
		return
	}
	if old, err := Unmarshal(e.Value()); err == nil && old.ID == a.ID && old.AckAt != nil {
		a.AckBy, a.AckAt, a.AckNote, a.AckVia = old.AckBy, old.AckAt, old.AckNote, old.AckVia
	}
}

func (p *Publisher) storeState(ctx context.Context, a *Alarm) error {
	if p.kv == nil {
		return nil
	}
	if _, err := StoreState(ctx, p.kv, a); err != nil {
		return fmt.Errorf("alarm %s: %w", a.ID, err)
	}
	return nil
}

// Enqueue hands a to the publishing goroutine and returns at once. When
// the queue is full the oldest waiting alarm is dropped and counted.
func (p *Publisher) Enqueue(a *Alarm) {
	if a == nil {
		return
	}
	p.enqueued.Add(1)
	p.enqueue(item{a: a, handed: p.opt.Now()})
}

func (p *Publisher) enqueue(it item) {
	p.backlog.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		select {
		case p.queue <- it:
			return
		default:
		}
		select {
		case old := <-p.queue:
			p.backlog.Add(-1)
			p.dropped.Add(1)
			p.counters.WithLabelValues("dropped").Inc()
			p.log.Error("alarm queue full: dropped the oldest alarm", "alarm", old.a.ID, "state", old.a.State, "queue", cap(p.queue))
		default:
		}
	}
}

// Start launches the publishing goroutine. Alarms enqueued before Start
// wait for it.
func (p *Publisher) Start(ctx context.Context) {
	p.startOnce.Do(func() {
		ctx, p.cancel = context.WithCancel(ctx)
		go p.run(ctx)
	})
}

// deliver publishes a at once and waits up to SyncTimeout for JetStream
// to store it; an alarm that cannot be, or that would overtake alarms
// still waiting, goes to the publishing goroutine.
func (p *Publisher) deliver(a *Alarm) {
	p.enqueued.Add(1)
	it := item{a: a, handed: p.opt.Now()}
	if p.backlog.Load() > 0 {
		p.enqueue(it)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opt.SyncTimeout)
	ack, err := p.publishStream(ctx, a, "")
	cancel()
	switch {
	case err == nil:
		p.acked(it, ack)
	case isPermanent(err):
		p.failed.Add(1)
		p.counters.WithLabelValues("failed").Inc()
		p.log.Error("alarm not published", "alarm", a.ID, "state", a.State, "err", err)
	default:
		p.retries.Add(1)
		p.counters.WithLabelValues("retry").Inc()
		p.log.Warn("alarm not stored in time, queued for retry", "alarm", a.ID, "state", a.State, "err", err)
		p.enqueue(it)
	}
}

// acked accounts for an alarm JetStream stored.
func (p *Publisher) acked(it item, ack *jetstream.PubAck) {
	lat := p.opt.Now().Sub(it.handed)
	p.latency.Observe(lat.Seconds())
	if p.opt.OnAck != nil {
		p.opt.OnAck(it.a, ack, lat)
	}
}

// Stop stops taking new work, publishes what is queued until ctx ends,
// then cancels the goroutine and waits for it. It returns an error if
// alarms were left unpublished.
func (p *Publisher) Stop(ctx context.Context) error {
	started := false
	p.startOnce.Do(func() { close(p.done) }) // never started: nothing runs
	p.stopOnce.Do(func() {
		started = p.cancel != nil
		close(p.stop)
	})
	if started {
		select {
		case <-p.done:
		case <-ctx.Done():
			p.cancel()
			<-p.done
		}
		p.cancel()
	}
	if n := len(p.queue); n > 0 || p.failed.Load() > 0 {
		return fmt.Errorf("alarm publisher: stop: %d alarms queued, %d given up", n, p.failed.Load())
	}
	return nil
}

func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case it := <-p.queue:
			p.process(ctx, it)
		case <-ctx.Done():
			return
		case <-p.stop:
			for {
				select {
				case it := <-p.queue:
					p.process(ctx, it)
				default:
					return
				}
				if ctx.Err() != nil {
					return
				}
			}
		}
	}
}

// process publishes one alarm to the stream, retrying with backoff until
// ctx ends.
func (p *Publisher) process(ctx context.Context, it item) {
	defer p.backlog.Add(-1)
	log := p.log.With("alarm", it.a.ID, "state", it.a.State)
	var ack *jetstream.PubAck
	err := p.retry(ctx, log, "publish", func() (err error) {
		ack, err = p.publishStream(ctx, it.a, "")
		return err
	})
	if err != nil {
		p.failed.Add(1)
		p.counters.WithLabelValues("failed").Inc()
		log.Error("alarm not published", "err", err)
		return
	}
	p.acked(it, ack)
}

func (p *Publisher) retry(ctx context.Context, log *slog.Logger, step string, f func() error) error {
	wait := p.opt.MinBackoff
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || isPermanent(err) {
			return err
		}
		p.retries.Add(1)
		p.counters.WithLabelValues("retry").Inc()
		log.Warn("alarm "+step+" failed, retrying", "attempt", attempt, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, p.opt.MaxBackoff)
	}
}

// errInvalid marks an alarm that can never be published.
var errInvalid = errors.New("invalid alarm")

func isPermanent(err error) bool {
	return errors.Is(err, errInvalid) ||
		errors.Is(err, nats.ErrMaxPayload)
}
