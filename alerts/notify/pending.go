package notify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// pendingEntry is a cached pending value with its bucket revision.
type pendingEntry struct {
	p   pending
	rev uint64
}

// getPending reads an alarm's escalation state; nil when there is none.
func (n *Notifier) getPending(ctx context.Context, key string) (*pending, uint64, error) {
	e, err := n.pkv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var p pending
	if err := unmarshal(e.Value(), &p); err != nil {
		return nil, 0, fmt.Errorf("pending %s: %w", key, err)
	}
	return &p, e.Revision(), nil
}

// ensurePending returns the alarm's escalation state, creating it (with
// its acknowledgement code) on the first firing message.
func (n *Notifier) ensurePending(ctx context.Context, a *alerts.Alarm, r *Route, targets []Target, now time.Time) (*pending, error) {
	key := pendingKey(a.Site, a.ID)
	if p, _, err := n.getPending(ctx, key); err != nil || p != nil {
		return p, err
	}
	code, err := n.allocCode(ctx, key, a.ID)
	if err != nil {
		return nil, err
	}
	p := &pending{
		AlarmID: a.ID, Fingerprint: a.Fingerprint, Site: a.Site, Room: a.Room, Severity: a.Severity,
		Rule: a.Rule, Text: a.Message("zh"), Started: a.StartedAt, Route: r.Name, Code: code,
		LastAt: now, Exclude: exclude(a),
	}
	for _, t := range targets {
		p.Told = append(p.Told, toldKey(t))
	}
	if _, err := n.pkv.Create(ctx, key, marshal(p)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) { // another instance was first
			p, _, err = n.getPending(ctx, key)
			return p, err
		}
		return nil, err
	}
	return p, nil
}

// allocCode reserves a four-digit acknowledgement code for the pending
// key, unique among pending alarms, derived from the alarm id.
func (n *Notifier) allocCode(ctx context.Context, key, alarmID string) (string, error) {
	h := fnv.New32a()
	h.Write([]byte(alarmID))
	start := int(h.Sum32() % 9000)
	for i := range 9000 {
		code := fmt.Sprintf("%04d", 1000+(start+i)%9000)
		_, err := n.pkv.Create(ctx, codeKey(code), []byte(key))
		if err == nil {
			return code, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", err
		}
		e, err := n.pkv.Get(ctx, codeKey(code))
		if err == nil && string(e.Value()) == key {
			return code, nil
		}
	}
	return "", errors.New("no free acknowledgement code")
}

// updatePending changes an alarm's escalation state with compare and
// swap, trying again when another instance changed it first. f returns
// false to leave it as it is.
func (n *Notifier) updatePending(ctx context.Context, key string, f func(p *pending) bool) (*pending, error) {
	for range 10 {
		p, rev, err := n.getPending(ctx, key)
		if err != nil || p == nil {
			return p, err
		}
		if !f(p) {
			return p, nil
		}
		_, err = n.pkv.Update(ctx, key, marshal(p), rev)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("pending %s: changed by others too often", key)
}

// acknowledged stops an alarm's escalation.
func (n *Notifier) acknowledged(ctx context.Context, site, alarmID, by string) {
	_, err := n.updatePending(ctx, pendingKey(site, alarmID), func(p *pending) bool {
		if p.Acked {
			return false
		}
		p.Acked, p.AckBy = true, by
		return true
	})
	if err != nil {
		n.log.Warn("acknowledgement not recorded", "alarm", alarmID, "err", err)
		return
	}
	n.log.Info("alarm acknowledged: escalation stopped", "alarm", alarmID, "by", by)
}

// markResolved stops an alarm's escalation before its resolution is sent.
func (n *Notifier) markResolved(ctx context.Context, key string) (*pending, error) {
	return n.updatePending(ctx, key, func(p *pending) bool {
		if p.Resolved {
			return false
		}
		p.Resolved = true
		return true
	})
}

// forget deletes a resolved alarm's escalation state and frees its code.
func (n *Notifier) forget(ctx context.Context, key, code string) {
	ctx = context.WithoutCancel(ctx)
	if err := n.pkv.Delete(ctx, key); err != nil {
		n.log.Warn("pending bucket: delete", "key", key, "err", err)
	}
	if code != "" {
		_ = n.pkv.Delete(ctx, codeKey(code))
	}
}

// byCode finds the pending alarm an acknowledgement code stands for.
func (n *Notifier) byCode(ctx context.Context, code string) (*pending, error) {
	e, err := n.pkv.Get(ctx, codeKey(code))
	if err != nil {
		return nil, fmt.Errorf("code %s: no such alarm waiting", code)
	}
	p, _, err := n.getPending(ctx, string(e.Value()))
	if err == nil && p == nil {
		err = fmt.Errorf("code %s: no such alarm waiting", code)
	}
	return p, err
}
