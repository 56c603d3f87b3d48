package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// FingerprintOf returns the fingerprint part of an occurrence id
// (OccurrenceID: "<fingerprint>-<start time>").
func FingerprintOf(id string) string {
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

// ApplyAck applies one acknowledgement, as the monitor (the single writer
// of alarm state) does: the stored alarm it names is marked acknowledged
// in the state bucket and its acknowledged message is published on the
// alarm's subject (message id AckMsgID), where the daily record, the
// notifier and the patrol screen see it. An acknowledgement applied
// before (a redelivery after a crash, a second person) publishes the
// stored acknowledgement again, which JetStream stores once; the first
// one stays. It returns the alarm as stored.
func ApplyAck(ctx context.Context, kv jetstream.KeyValue, pub *Publisher, k *Ack) (*Alarm, error) {
	fp := k.Fingerprint
	if fp == "" {
		fp = FingerprintOf(k.AlarmID)
	}
	key := StateKey(k.Site, fp)
	a, err := updateState(ctx, kv, key, func(old *Alarm) (*Alarm, error) {
		if old == nil {
			return nil, fmt.Errorf("ack of %s: %w", k.AlarmID, jetstream.ErrKeyNotFound)
		}
		if old.ID != k.AlarmID {
			return nil, fmt.Errorf("ack of %s: %w (the alarm's latest occurrence is %s)", k.AlarmID, ErrNotCurrent, old.ID)
		}
		n := old.Clone()
		if err := n.Acknowledge(k.By, k.Comment, k.At); err != nil {
			if errors.Is(err, ErrAcknowledged) {
				return nil, nil // keep the first; publish it again below
			}
			return nil, err
		}
		n.AckVia = k.Via
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := pub.PublishAcknowledged(ctx, a.Clone()); err != nil {
		return a, err
	}
	return a, nil
}

// ErrNotCurrent is returned for an acknowledgement of an occurrence that
// is no longer the alarm's latest (it resolved and fired again).
var ErrNotCurrent = errors.New("not the current occurrence")

// AckConsumer is the name prefix of the monitor's durable consumers on
// ROOMWATCH_ACKS, one per site: <prefix>_<site>.
const AckConsumer = "roomwatch_monitor"

// AckApplier consumes the acknowledgements of its sites from
// ROOMWATCH_ACKS with a durable consumer and applies each (ApplyAck), so
// an acknowledgement published while the monitor was down is applied
// when it starts. An acknowledgement is acknowledged to JetStream only
// once applied; one that can never apply (unknown alarm, an older
// occurrence, a malformed message) is logged and dropped.
type AckApplier struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	pub   *Publisher
	sites []string
	log   *slog.Logger

	mu  sync.Mutex
	ccs []jetstream.ConsumeContext

	// Applied, if set (tests), is called after each acknowledgement was
	// handled, with the stored alarm or the error.
	Applied func(*Ack, *Alarm, error)
}

// NewAckApplier returns an applier of the acknowledgements of sites.
func NewAckApplier(js jetstream.JetStream, kv jetstream.KeyValue, pub *Publisher, sites []string, log *slog.Logger) *AckApplier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AckApplier{js: js, kv: kv, pub: pub, sites: sites, log: log.With("component", "acks")}
}

// Start creates the consumers (the stream must exist: EnsureStreams) and
// starts applying.
func (p *AckApplier) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, site := range p.sites {
		name := AckConsumer + "_" + KeyToken(site)
		c, err := p.js.CreateOrUpdateConsumer(ctx, AckStream, jetstream.ConsumerConfig{
			Durable:       name,
			Description:   "roomwatch monitor: applies the acknowledgements of site " + site,
			FilterSubject: AckSubjectPrefix + "." + Token(site) + ".>",
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxDeliver:    -1,
		})
		if err != nil {
			return fmt.Errorf("stream %s: consumer %s: %w", AckStream, name, err)
		}
		cc, err := c.Consume(func(m jetstream.Msg) { p.handle(ctx, m) })
		if err != nil {
			return fmt.Errorf("stream %s: consumer %s: %w", AckStream, name, err)
		}
		p.ccs = append(p.ccs, cc)
	}
	return nil
}

func (p *AckApplier) handle(ctx context.Context, m jetstream.Msg) {
	k, err := UnmarshalAck(m.Data())
	if err != nil {
		p.log.Error("acknowledgement message dropped", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := ApplyAck(actx, p.kv, p.pub, k)
	if p.Applied != nil {
		p.Applied(k, a, err)
	}
	switch {
	case err == nil:
		p.log.Info("alarm acknowledged", "alarm", k.AlarmID, "by", k.By, "via", k.Via)
		_ = m.Ack()
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, ErrNotCurrent), errors.Is(err, errInvalid):
		p.log.Warn("acknowledgement not applicable, dropped", "alarm", k.AlarmID, "by", k.By, "err", err)
		_ = m.Term()
	default:
		p.log.Warn("acknowledgement not applied, will retry", "alarm", k.AlarmID, "err", err)
		_ = m.NakWithDelay(time.Second)
	}
}

// Stop stops consuming.
func (p *AckApplier) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cc := range p.ccs {
		cc.Stop()
		<-cc.Closed()
	}
	p.ccs = nil
}
