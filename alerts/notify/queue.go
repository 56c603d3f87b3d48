package notify

import (
	"context"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/rules"
)

// job is one message to send: the items of one kind for one target over
// one channel.
type job struct {
	items   []item
	target  Target
	kind    string
	prio    int // the worst item's severity rank: critical first
	seq     uint64
	attempt int
	// notBefore holds a retry back.
	notBefore time.Time
	// done is called once when the job is finished (sent, unknown, dead
	// or nothing left to send).
	done func()
}

// worker owns one channel: its queue, critical first, one send at a
// time within the channel's rate.
type worker struct {
	n    *Notifier
	name string
	ch   channels.Channel
	lim  *Limiter
	wake chan struct{}

	q   []*job // guarded by n.mu
	seq uint64
}

func (w *worker) push(j *job) {
	w.n.mu.Lock()
	w.seq++
	j.seq = w.seq
	for _, it := range j.items {
		j.prio = max(j.prio, it.Severity.Rank())
	}
	w.q = append(w.q, j)
	w.n.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// queued is the number of jobs waiting.
func (w *worker) queued() int {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	return len(w.q)
}

// pick takes the job to send now: ready, its person not over their limit,
// the highest priority, the oldest. Otherwise it returns how long to wait.
func (w *worker) pick(now time.Time) (*job, time.Duration) {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	wait := time.Hour
	best := -1
	for i, j := range w.q {
		d := j.notBefore.Sub(now)
		if pw := w.n.personWait(j, now); pw > d {
			d = pw
		}
		if d > 0 {
			wait = min(wait, d)
			continue
		}
		if best < 0 || j.prio > w.q[best].prio || (j.prio == w.q[best].prio && j.seq < w.q[best].seq) {
			best = i
		}
	}
	if best < 0 {
		return nil, wait
	}
	if d := w.lim.Wait(now); d > 0 {
		return nil, d
	}
	j := w.q[best]
	w.q = append(w.q[:best], w.q[best+1:]...)
	w.lim.Take(now)
	w.n.personTake(j, now)
	return j, 0
}

// run sends until ctx ends; jobs left in the queue are not acknowledged
// to JetStream, so another instance (or this one restarted) sends them.
func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		j, wait := w.pick(w.n.now())
		if j != nil {
			w.n.deliver(ctx, w, j)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// personWait is how long a non-critical job to one person must wait for
// the per-person limit; n.mu is held.
func (n *Notifier) personWait(j *job, now time.Time) time.Duration {
	if j.target.Group || j.prio >= rules.Critical.Rank() || n.cfg.perPerson.N == 0 {
		return 0
	}
	return n.people[j.target.Key].Wait(now)
}

// personTake counts a non-critical send to one person; n.mu is held.
func (n *Notifier) personTake(j *job, now time.Time) {
	if j.target.Group || j.prio >= rules.Critical.Rank() || n.cfg.perPerson.N == 0 {
		return
	}
	l := n.people[j.target.Key]
	if l == nil {
		l = NewLimiter(n.cfg.perPerson)
		n.people[j.target.Key] = l
	}
	l.Take(now)
}
