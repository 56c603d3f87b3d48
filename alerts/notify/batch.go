package notify

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// msgRef is a JetStream message held until every send it caused is done;
// then it is acknowledged (and onDone runs).
type msgRef struct {
	msg    jetstream.Msg
	left   int // jobs not yet done; guarded by Notifier.mu
	onDone func()
}

// batch is a storm window of one site: the items that arrived since
// first, sent together at first + the window.
type batch struct {
	first time.Time
	adds  []batchItem
}

type batchItem struct {
	it      item
	targets []Target
	ref     *msgRef // nil for items not from a message (escalations)
}

// add puts an item in its site's storm window, or sends it at once when
// grouping is off (window 0) or it is not from a message.
func (n *Notifier) add(site string, bi batchItem) {
	if n.cfg.Storm.Window <= 0 || bi.ref == nil {
		n.dispatch([]batchItem{bi})
		return
	}
	n.mu.Lock()
	if bi.ref != nil {
		n.held[bi.ref] = struct{}{}
	}
	b := n.batches[site]
	if b == nil {
		b = &batch{first: n.now()}
		n.batches[site] = b
	}
	b.adds = append(b.adds, bi)
	n.mu.Unlock()
}

// flushDue sends the storm windows that are over.
func (n *Notifier) flushDue(now time.Time) {
	n.mu.Lock()
	var due [][]batchItem
	for site, b := range n.batches {
		if now.Sub(b.first) >= n.cfg.Storm.Window {
			due = append(due, b.adds)
			delete(n.batches, site)
		}
	}
	n.mu.Unlock()
	for _, adds := range due {
		n.dispatch(adds)
	}
}

// dispatch turns items into jobs: one per target, channel and kind, each
// holding every item for that target, so a storm is one message.
func (n *Notifier) dispatch(adds []batchItem) {
	type gkey struct{ target, channel, kind string }
	jobs := map[gkey]*job{}
	var order []gkey
	refs := map[*job][]*msgRef{}
	for _, bi := range adds {
		for _, t := range bi.targets {
			for _, ch := range t.Channels {
				if ch == bi.it.Exclude || n.workers[ch] == nil {
					continue
				}
				k := gkey{toldKey(t), ch, bi.it.Kind}
				j := jobs[k]
				if j == nil {
					j = &job{target: t, kind: bi.it.Kind}
					jobs[k] = j
					order = append(order, k)
				}
				j.items = append(j.items, bi.it)
				if bi.ref != nil && !containsRef(refs[j], bi.ref) {
					refs[j] = append(refs[j], bi.ref)
				}
			}
		}
	}
	n.mu.Lock()
	for _, bi := range adds {
		if bi.ref != nil {
			n.held[bi.ref] = struct{}{}
		}
	}
	for _, rs := range refs {
		for _, r := range rs {
			r.left++
		}
	}
	n.mu.Unlock()
	for _, bi := range adds {
		if bi.ref != nil {
			n.settle(bi.ref, 0) // a message that caused no send
		}
	}
	for _, k := range order {
		j := jobs[k]
		rs := refs[j]
		j.done = func() {
			for _, r := range rs {
				n.settle(r, 1)
			}
		}
		n.workers[k.channel].push(j)
	}
}

func containsRef(list []*msgRef, r *msgRef) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// settle counts done jobs of r; when none is left, r's message is
// acknowledged.
func (n *Notifier) settle(r *msgRef, done int) {
	n.mu.Lock()
	r.left -= done
	_, held := n.held[r]
	finished := held && r.left <= 0
	if finished {
		delete(n.held, r)
	}
	n.mu.Unlock()
	if !finished {
		return
	}
	if r.onDone != nil {
		r.onDone()
	}
	if err := r.msg.Ack(); err != nil {
		n.log.Warn("ack to JetStream", "err", err)
	}
}

// progress tells JetStream the held messages are being worked on, so
// their ack wait does not run out while they wait in a rate-limited queue.
func (n *Notifier) progress() {
	n.mu.Lock()
	held := make([]*msgRef, 0, len(n.held))
	for r := range n.held {
		held = append(held, r)
	}
	n.mu.Unlock()
	for _, r := range held {
		_ = r.msg.InProgress()
	}
}
