package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels"
)

// Options are what New takes besides the configuration.
type Options struct {
	// Alerts is the alarm layout (stream prefix, retention of records).
	Alerts alerts.Config
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Channels, if set, are used instead of building the configured
	// channels (tests).
	Channels map[string]channels.Channel
	// Instance names this notifier in claims (default host-pid-random).
	Instance string
	// Tick is how often timers are checked (default 200ms).
	Tick time.Duration
}

// Notifier is the notifier role. New builds it without I/O; Start binds
// to JetStream and starts its loops; Stop stops them.
type Notifier struct {
	cfg  *Config
	opt  Options
	log  *slog.Logger
	now  func() time.Time
	nc   *nats.Conn
	js   jetstream.JetStream
	sent *sentStore
	pkv  jetstream.KeyValue
	pub  *alerts.Publisher

	workers map[string]*worker

	mu       sync.Mutex
	people   map[string]*Limiter
	failing  map[string]*alerts.Alarm // <site>/<channel> → its notify-channel-failing alarm
	inflight map[string]bool          // escalation steps queued
	held     map[*msgRef]struct{}
	pend     map[string]pendingEntry // cache of the pending bucket
	batches  map[string]*batch
	beats    map[string]*beat
	selfDay  string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds a notifier for a validated cfg.
func New(cfg *Config, nc *nats.Conn, opt Options, log *slog.Logger) (*Notifier, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tick <= 0 {
		opt.Tick = 200 * time.Millisecond
	}
	opt.Alerts.Defaults()
	if opt.Instance == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opt.Instance = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.tmpl == nil {
		return nil, fmt.Errorf("notify: configuration not validated")
	}
	n := &Notifier{
		cfg: cfg, opt: opt, log: log.With("component", "notify"), now: opt.Now, nc: nc,
		workers: map[string]*worker{}, people: map[string]*Limiter{}, failing: map[string]*alerts.Alarm{},
		inflight: map[string]bool{}, pend: map[string]pendingEntry{}, held: map[*msgRef]struct{}{}, batches: map[string]*batch{}, beats: map[string]*beat{},
	}
	for i := range cfg.Channels {
		c := &cfg.Channels[i]
		ch, ok := opt.Channels[c.Name]
		if !ok {
			var err error
			if ch, err = buildChannel(c, n.log); err != nil {
				return nil, err
			}
		}
		n.workers[c.Name] = &worker{n: n, name: c.Name, ch: ch, lim: NewLimiter(c.limit(ch)), wake: make(chan struct{}, 1)}
	}
	return n, nil
}

// Start creates the notifier's streams and buckets and starts consuming.
// The alarm streams are made by the monitor; a notifier started first
// waits for them.
func (n *Notifier) Start(ctx context.Context) error {
	var err error
	if n.js, err = jetstream.New(n.nc); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := EnsureStreams(sctx, n.js, n.opt.Alerts); err != nil {
		return err
	}
	skv, err := n.js.KeyValue(sctx, SentBucket)
	if err != nil {
		return err
	}
	n.sent = &sentStore{kv: skv, owner: n.opt.Instance, lease: n.cfg.ClaimLease}
	if n.pkv, err = n.js.KeyValue(sctx, PendingBucket); err != nil {
		return err
	}
	n.pub = alerts.NewPublisher(n.js, nil, alerts.PublisherOptions{Now: n.now}, n.log)
	now := n.now()
	for _, s := range n.cfg.Sites {
		n.beats[s] = &beat{last: now}
	}
	hb, err := n.nc.Subscribe(HeartbeatSubjects, n.heartbeat)
	if err != nil {
		return fmt.Errorf("heartbeat subscription: %w", err)
	}

	rctx, rcancel := context.WithCancel(context.Background())
	n.cancel = rcancel
	for _, w := range n.workers {
		n.spawn(func() { w.run(rctx) })
		if r, ok := w.ch.(channels.Receiver); ok {
			n.spawn(func() { n.receive(rctx, r) })
		}
	}
	for _, s := range n.cfg.Sites {
		stream := alerts.AlarmStreamName(n.opt.Alerts.StreamPrefix, s)
		n.spawn(func() { n.consume(rctx, stream, n.handleAlarm) })
	}
	n.spawn(func() { n.consume(rctx, alerts.AckStream, n.handleAck) })
	n.spawn(func() {
		<-rctx.Done()
		_ = hb.Unsubscribe()
	})
	n.spawn(func() { n.watchPending(rctx) })
	n.spawn(func() { n.loop(rctx) })
	n.log.Info("notifier started", "sites", n.cfg.Sites, "channels", len(n.workers), "instance", n.opt.Instance)
	return nil
}

func (n *Notifier) spawn(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Stop stops consuming and sending. Messages not yet sent stay
// unacknowledged on JetStream for another instance or the next start.
func (n *Notifier) Stop() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
}

// Queued is the number of messages waiting on each channel.
func (n *Notifier) Queued() map[string]int {
	out := map[string]int{}
	for name, w := range n.workers {
		out[name] = w.queued()
	}
	return out
}

// loop checks the timers: storm windows, escalations and repeats, the
// dead man's switch, the self-test, and progress on held messages.
func (n *Notifier) loop(ctx context.Context) {
	t := time.NewTicker(n.opt.Tick)
	defer t.Stop()
	lastProgress := n.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := n.now()
		n.flushDue(now)
		n.escalate(ctx, now)
		n.deadman(now)
		n.selftest(now)
		if now.Sub(lastProgress) >= n.cfg.AckWait/3 {
			n.progress()
			lastProgress = now
		}
	}
}
