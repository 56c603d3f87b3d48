package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// watchPending keeps n.pend, the cache of the pending bucket that the
// escalation timers read, up to date with every instance's changes.
func (n *Notifier) watchPending(ctx context.Context) {
	for ctx.Err() == nil {
		w, err := n.pkv.WatchAll(ctx)
		if err != nil {
			n.log.Warn("pending bucket: watch", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		n.readPending(ctx, w)
		_ = w.Stop()
	}
}

func (n *Notifier) readPending(ctx context.Context, w jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || strings.HasPrefix(e.Key(), "code.") {
				continue
			}
			n.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(n.pend, e.Key())
			} else {
				var p pending
				if unmarshal(e.Value(), &p) == nil {
					n.pend[e.Key()] = pendingEntry{p: p, rev: e.Revision()}
				}
			}
			n.mu.Unlock()
		}
	}
}

// escalate queues the due escalations and repeats. Every instance does
// it; the claims in the sent bucket let one of them send each, and the
// step is recorded (compare and swap) once its sends are done.
func (n *Notifier) escalate(ctx context.Context, now time.Time) {
	n.mu.Lock()
	var due []struct {
		key string
		p   pending
		s   step
	}
	for key, e := range n.pend {
		r := n.cfg.routeByName(&e.p, now)
		s, ok := nextStep(&e.p, r, now)
		if !ok || n.inflight[key+"/"+s.key()] {
			continue
		}
		n.inflight[key+"/"+s.key()] = true
		due = append(due, struct {
			key string
			p   pending
			s   step
		}{key, e.p, s})
	}
	n.mu.Unlock()
	for _, d := range due {
		n.sendStep(ctx, d.key, d.p, d.s, now)
	}
}

// sendStep tells the step's targets; when every send is done, the step is
// recorded in the pending bucket.
func (n *Notifier) sendStep(ctx context.Context, key string, p pending, s step, now time.Time) {
	r := n.cfg.routeByName(&p, now)
	var targets []Target
	if s.Kind == KindEscalation {
		targets = n.cfg.Targets(r.Levels[s.Level].To, now, fmt.Sprintf("路由 %s 第%d级（%v 未确认）", r.Name, s.Level+1, r.Levels[s.Level].After))
	} else {
		targets = n.cfg.Targets(r.Levels[s.Level].To, now, fmt.Sprintf("路由 %s 第%d级 第%d次重复", r.Name, s.Level+1, s.Repeat))
	}
	it := item{
		Key: escKey(p.AlarmID, s), AlarmID: p.AlarmID, Site: p.Site, Room: p.Room, Severity: p.Severity,
		Kind: s.Kind, Level: s.Level, Text: p.Text, Code: p.Code, At: p.Started, Exclude: p.Exclude,
	}
	var told []string
	for _, t := range targets {
		told = append(told, toldKey(t))
	}
	finish := func() {
		_, err := n.updatePending(context.WithoutCancel(ctx), key, func(q *pending) bool {
			if !stepAhead(q, s) {
				return false // recorded already by another instance
			}
			advance(q, s, n.now(), told)
			return true
		})
		if err != nil {
			n.log.Warn("escalation step not recorded", "alarm", p.AlarmID, "step", s.key(), "err", err)
		}
		n.mu.Lock()
		delete(n.inflight, key+"/"+s.key())
		n.mu.Unlock()
	}
	n.dispatchStep(it, targets, finish)
}

// escKey is the idempotency prefix of an alarm's escalation step.
func escKey(alarmID string, s step) string {
	return strings.Join([]string{alerts.KeyToken(alarmID), s.key()}, ".")
}

// dispatchStep queues one item to its targets and calls finish when all
// its sends are done.
func (n *Notifier) dispatchStep(it item, targets []Target, finish func()) {
	var jobs []*job
	var chans []string
	for _, t := range targets {
		for _, ch := range t.Channels {
			if ch == it.Exclude || n.workers[ch] == nil {
				continue
			}
			jobs = append(jobs, &job{items: []item{it}, target: t, kind: it.Kind})
			chans = append(chans, ch)
		}
	}
	if len(jobs) == 0 {
		finish()
		return
	}
	left := len(jobs)
	for i, j := range jobs {
		j.done = func() {
			n.mu.Lock()
			left--
			last := left == 0
			n.mu.Unlock()
			if last {
				finish()
			}
		}
		n.workers[chans[i]].push(j)
	}
}
