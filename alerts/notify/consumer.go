package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// consume pulls from the shared durable consumer of stream until ctx
// ends, binding again when the stream is not there yet or the connection
// was lost.
func (n *Notifier) consume(ctx context.Context, stream string, h func(context.Context, jetstream.Msg)) {
	log := n.log.With("stream", stream)
	warned := false
	for ctx.Err() == nil {
		cons, err := n.bind(ctx, stream)
		if err != nil {
			if !warned {
				log.Warn("waiting for the stream", "err", err)
				warned = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(256))
		if err != nil {
			log.Warn("pull", "err", err)
			continue
		}
		stop := context.AfterFunc(ctx, it.Stop)
		for {
			msg, err := it.Next()
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					log.Warn("pull", "err", err)
				}
				break
			}
			h(ctx, msg)
		}
		stop()
		it.Stop()
	}
}

// bind returns the shared durable consumer on stream, creating it (from
// the last hour on, not the stream's whole history) when it is missing.
func (n *Notifier) bind(ctx context.Context, stream string) (jetstream.Consumer, error) {
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := n.js.Consumer(bctx, stream, n.cfg.Consumer)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	start := n.now().Add(-time.Hour)
	c, err = n.js.CreateConsumer(bctx, stream, jetstream.ConsumerConfig{
		Durable: n.cfg.Consumer, Description: "roomwatch notifiers (shared)",
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: n.cfg.AckWait,
		MaxDeliver: -1, MaxAckPending: 20000,
	})
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return n.js.Consumer(bctx, stream, n.cfg.Consumer)
	}
	return c, err
}

// handleAlarm routes one alarm message: a firing alarm goes to its
// route's first level (or waits out the quiet hours), an acknowledgement
// stops its escalation, a resolution goes to everyone who was told.
func (n *Notifier) handleAlarm(ctx context.Context, msg jetstream.Msg) {
	a, err := alerts.Unmarshal(msg.Data())
	if err != nil {
		n.log.Error("alarm message rejected", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	now := n.now()
	switch a.State {
	case alerts.Acknowledged:
		n.acknowledged(ctx, a.Site, a.ID, a.AckBy)
		_ = msg.Ack()
	case alerts.Resolved:
		n.resolved(ctx, a, msg)
	case alerts.Firing:
		if wait := n.quietWait(a.Severity, now); wait > 0 {
			_ = msg.NakWithDelay(wait)
			return
		}
		r := n.cfg.Match(a.Site, a.Room, a.Severity, now)
		if r == nil {
			n.log.Info("no route: nobody told", "alarm", a.ID, "site", a.Site, "room", a.Room, "severity", a.Severity)
			_ = msg.Ack()
			return
		}
		targets := n.cfg.Targets(r.Levels[0].To, now, fmt.Sprintf("路由 %s 第1级", r.Name))
		p, err := n.ensurePending(ctx, a, r, targets, now)
		if err != nil {
			n.log.Warn("pending bucket", "alarm", a.ID, "err", err)
			_ = msg.NakWithDelay(time.Second)
			return
		}
		it := alarmItem(a, KindFiring, "L0", 0, p.Code)
		n.add(a.Site, batchItem{it: it, targets: targets, ref: &msgRef{msg: msg}})
	}
}

// alarmItem is one step of an alarm to tell.
func alarmItem(a *alerts.Alarm, kind, step string, level int, code string) item {
	return item{
		Key: alerts.KeyToken(a.ID) + "." + step, AlarmID: a.ID, Site: a.Site, Room: a.Room,
		Severity: a.Severity, Kind: kind, Level: level, Text: a.Message("zh"), Code: code,
		At: a.StartedAt, Exclude: exclude(a),
	}
}

// exclude is the channel an alarm must not go over: the failing one.
func exclude(a *alerts.Alarm) string {
	if a.Rule == RuleChannelFailing {
		return a.Labels["channel"]
	}
	return ""
}

// resolved sends the resolution to everyone told of the alarm, then
// forgets its escalation.
func (n *Notifier) resolved(ctx context.Context, a *alerts.Alarm, msg jetstream.Msg) {
	key := pendingKey(a.Site, a.ID)
	p, err := n.markResolved(ctx, key)
	if err != nil {
		n.log.Warn("pending bucket", "alarm", a.ID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if p == nil {
		_ = msg.Ack() // nobody was told
		return
	}
	it := alarmItem(a, KindResolved, "RES", 0, "")
	ref := &msgRef{msg: msg, onDone: func() { n.forget(ctx, key, p.Code) }}
	n.add(a.Site, batchItem{it: it, targets: n.cfg.toldTargets(p.Told), ref: ref})
}

// handleAck stops the escalation of the acknowledged alarm.
func (n *Notifier) handleAck(ctx context.Context, msg jetstream.Msg) {
	k, err := alerts.UnmarshalAck(msg.Data())
	if err != nil {
		n.log.Error("ack message rejected", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	n.acknowledged(ctx, k.Site, k.AlarmID, k.By)
	_ = msg.Ack()
}

// quietWait is how long an alarm of sev is held back by the quiet hours
// at now (0: send now). Critical alarms are never held.
func (n *Notifier) quietWait(sev alerts.Severity, now time.Time) time.Duration {
	q := n.cfg.QuietHours
	if q == nil || !contains(sevStrings(q.Severities), string(sev)) {
		return 0
	}
	local := now.In(n.cfg.Location())
	if !q.span.Contains(local) {
		return 0
	}
	return q.span.End(local).Sub(local)
}

func sevStrings(s []alerts.Severity) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return out
}
