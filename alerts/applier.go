package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateConsumer is the name of the durable consumer on each site's alarm
// stream through which the monitor keeps the state bucket in step.
const StateConsumer = "roomwatch_state"

// StateApplier keeps the alarm state bucket in step with the alarm
// streams: the stream is the record of every transition (a transition is
// decided durable when JetStream stored its message), the bucket is what
// the stream says of each alarm now. It reads each site's stream through
// a durable consumer, so a message stored just before kill -9 and not yet
// in the bucket is applied at the next start (CatchUp) before the rules
// engine is restored from the bucket: a restart neither announces a
// firing alarm again nor forgets to resolve it. Applying a message twice
// changes nothing (StoreState ignores older occurrences).
type StateApplier struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	cfg   Config
	sites []string
	log   *slog.Logger

	mu   sync.Mutex
	ccs  []jetstream.ConsumeContext
	cons map[string]jetstream.Consumer

	// Stored, if set (tests, benchmarks), is called after each message
	// was applied.
	Stored func(*Alarm)
}

// NewStateApplier returns an applier for the alarm streams of sites
// (created by EnsureStreams) into the state bucket kv.
func NewStateApplier(js jetstream.JetStream, kv jetstream.KeyValue, cfg Config, sites []string, log *slog.Logger) *StateApplier {
	cfg.Defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StateApplier{js: js, kv: kv, cfg: cfg, sites: sites, log: log.With("component", "alarm-state"),
		cons: map[string]jetstream.Consumer{}}
}

// CatchUp applies every message of the sites' streams that the bucket may
// not hold yet (those after the consumer's acknowledgement floor) and
// returns when the bucket is up to date. A consumer created now (first
// start) begins after the stream's last message: the bucket already
// holds what came before.
func (s *StateApplier) CatchUp(ctx context.Context) error {
	for _, site := range s.sites {
		name := AlarmStreamName(s.cfg.StreamPrefix, site)
		st, err := s.js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("alarm stream %s: %w", name, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return fmt.Errorf("alarm stream %s: %w", name, err)
		}
		last := info.State.LastSeq
		c, err := st.Consumer(ctx, StateConsumer)
		var from uint64
		switch {
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			c, err = st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
				Durable:       StateConsumer,
				Description:   "roomwatch: the alarm state bucket follows this stream",
				DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
				OptStartSeq:   last + 1,
				AckPolicy:     jetstream.AckExplicitPolicy,
				MaxAckPending: 1024,
			})
			if err != nil {
				return fmt.Errorf("alarm stream %s: consumer %s: %w", name, StateConsumer, err)
			}
			from = last + 1
		case err != nil:
			return fmt.Errorf("alarm stream %s: consumer %s: %w", name, StateConsumer, err)
		default:
			ci, err := c.Info(ctx)
			if err != nil {
				return fmt.Errorf("alarm stream %s: consumer %s: %w", name, StateConsumer, err)
			}
			from = max(ci.AckFloor.Stream+1, info.State.FirstSeq)
		}
		s.mu.Lock()
		s.cons[site] = c
		s.mu.Unlock()
		applied := 0
		for seq := from; seq <= last; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("alarm stream %s: message %d: %w", name, seq, err)
			}
			if err := s.apply(ctx, m.Data); err != nil {
				return fmt.Errorf("alarm stream %s: message %d: %w", name, seq, err)
			}
			applied++
		}
		if applied > 0 {
			s.log.Info("alarm state caught up with the stream", "stream", name, "messages", applied)
		}
	}
	return nil
}

// apply stores one alarm message in the bucket. A message that is not an
// alarm is logged and skipped.
func (s *StateApplier) apply(ctx context.Context, data []byte) error {
	a, err := Unmarshal(data)
	if err != nil {
		s.log.Error("alarm stream message skipped", "err", err)
		return nil
	}
	if _, err := StoreState(ctx, s.kv, a); err != nil {
		return err
	}
	if s.Stored != nil {
		s.Stored(a)
	}
	return nil
}

// Start consumes the streams from where CatchUp left them (call CatchUp
// first), applying each new message as it is stored.
func (s *StateApplier) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, site := range s.sites {
		c := s.cons[site]
		if c == nil {
			return fmt.Errorf("alarm state of site %s: CatchUp first", site)
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			if err := s.apply(ctx, m.Data()); err != nil {
				s.log.Warn("alarm state not stored, will retry", "err", err)
				_ = m.NakWithDelay(time.Second)
				return
			}
			_ = m.Ack()
		})
		if err != nil {
			return fmt.Errorf("alarm state of site %s: consume: %w", site, err)
		}
		s.ccs = append(s.ccs, cc)
	}
	return nil
}

// Stop stops consuming; what is left is applied by the next CatchUp.
func (s *StateApplier) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cc := range s.ccs {
		cc.Stop()
		<-cc.Closed()
	}
	s.ccs = nil
}
