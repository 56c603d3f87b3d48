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
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnAck, if set, is called from the publishing goroutine after each
	// alarm was stored by JetStream, with the time from Enqueue to PubAck.
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

// Publisher publishes alarms to their site's stream and records their
// state in the state bucket. Publish does it synchronously; Enqueue hands
// an alarm to the publishing goroutine (Start/Stop) and never blocks, so
// the rules engine is not held up by NATS.
type Publisher struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	log *slog.Logger
	opt PublisherOptions

	queue chan item
	// stateQ carries published alarms to the state goroutine, so a state
	// bucket write never delays the next alarm's publication.
	stateQ    chan *Alarm
	stateDone chan struct{}
	// mu serialises Enqueue's drop-oldest-then-send.
	mu sync.Mutex

	startOnce, stopOnce sync.Once
	stop                chan struct{}
	done                chan struct{}
	cancel              context.CancelFunc

	enqueued, published, duplicates, retries, dropped, failed atomic.Uint64

	// stored, if set (tests, benchmarks), is called after each state write.
	stored func(*Alarm)

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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{
		js: js, kv: kv, log: log.With("component", "alarm-publisher"), opt: opt,
		queue:     make(chan item, opt.QueueSize),
		stateQ:    make(chan *Alarm, opt.QueueSize),
		stateDone: make(chan struct{}),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
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
	ack, err := p.publishStream(ctx, a)
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

func (p *Publisher) publishStream(ctx context.Context, a *Alarm) (*jetstream.PubAck, error) {
	normalize(a)
	p.mergeAck(ctx, a)
	data, err := a.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	msg := nats.NewMsg(a.Subject())
	msg.Data = data
	msg.Header.Set("Roomwatch-Schema", Schema)
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(a.MsgID()))
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
		a.AckBy, a.AckAt, a.AckNote = old.AckBy, old.AckAt, old.AckNote
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
	it := item{a: a, handed: p.opt.Now()}
	p.enqueued.Add(1)
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
			p.dropped.Add(1)
			p.counters.WithLabelValues("dropped").Inc()
			p.log.Error("alarm queue full: dropped the oldest alarm", "alarm", old.a.ID, "state", old.a.State, "queue", cap(p.queue))
		default:
		}
	}
}

// Start launches the publishing goroutine (and the one that writes the
// state bucket after it). Alarms enqueued before Start wait for it.
func (p *Publisher) Start(ctx context.Context) {
	p.startOnce.Do(func() {
		ctx, p.cancel = context.WithCancel(ctx)
		go p.stateLoop(ctx)
		go p.run(ctx)
	})
}

// stateLoop writes the state of published alarms in order until run
// closes stateQ.
func (p *Publisher) stateLoop(ctx context.Context) {
	defer close(p.stateDone)
	for a := range p.stateQ {
		log := p.log.With("alarm", a.ID, "state", a.State)
		if err := p.retry(ctx, log, "store state", func() error { return p.storeState(ctx, a) }); err != nil {
			p.failed.Add(1)
			p.counters.WithLabelValues("failed").Inc()
			log.Error("alarm published but its state not stored", "err", err)
		}
		if p.stored != nil {
			p.stored(a)
		}
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
	defer func() {
		close(p.stateQ)
		<-p.stateDone
		close(p.done)
	}()
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
// ctx ends, then hands it to the state goroutine.
func (p *Publisher) process(ctx context.Context, it item) {
	log := p.log.With("alarm", it.a.ID, "state", it.a.State)
	var ack *jetstream.PubAck
	err := p.retry(ctx, log, "publish", func() (err error) {
		ack, err = p.publishStream(ctx, it.a)
		return err
	})
	if err != nil {
		p.failed.Add(1)
		p.counters.WithLabelValues("failed").Inc()
		log.Error("alarm not published", "err", err)
		return
	}
	lat := p.opt.Now().Sub(it.handed)
	p.latency.Observe(lat.Seconds())
	if p.opt.OnAck != nil {
		p.opt.OnAck(it.a, ack, lat)
	}
	if p.kv == nil {
		return
	}
	select {
	case p.stateQ <- it.a:
	case <-ctx.Done():
		p.failed.Add(1)
		p.counters.WithLabelValues("failed").Inc()
		log.Error("alarm published but its state not stored", "err", ctx.Err())
	}
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
