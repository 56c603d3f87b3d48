package influx

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a spool message is lost before InfluxDB had it, the "reason"
// label of roomwatch_spool_dropped_messages_total.
const (
	// DropSpoolFull: the spool reached max_bytes or max_age and
	// discarded its oldest messages before InfluxDB accepted them.
	DropSpoolFull = "spool_full"
	// DropQueueFull: the in-memory queue in front of the spool overflowed
	// (NATS too slow or unreachable) and its oldest batch was discarded.
	DropQueueFull = "queue_full"
	// DropUndecodable: a spool message not in the spool's format.
	DropUndecodable = "undecodable"
)

// dropReasons are the values of the "reason" label.
var dropReasons = []string{DropSpoolFull, DropQueueFull, DropUndecodable}

// Drops counts the spool messages lost, by reason. The count is kept
// here, in plain counters: the spool-dropping alarm reads Total, and the
// Prometheus counter is written alongside as output, never read back.
type Drops struct {
	n      [3]atomic.Uint64 // by index in dropReasons
	metric *prometheus.CounterVec
}

func newDrops() *Drops {
	d := &Drops{metric: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roomwatch_spool_dropped_messages_total",
		Help: "Spool messages (each a batch of sample sets) lost before InfluxDB accepted them, by reason (spool_full, queue_full, undecodable).",
	}, []string{"reason"})}
	for _, r := range dropReasons {
		d.metric.WithLabelValues(r)
	}
	return d
}

// add counts n messages lost for reason (one of dropReasons).
func (d *Drops) add(reason string, n uint64) {
	d.n[slices.Index(dropReasons, reason)].Add(n)
	d.metric.WithLabelValues(reason).Add(float64(n))
}

// Of is how many messages were lost for reason so far.
func (d *Drops) Of(reason string) uint64 {
	i := slices.Index(dropReasons, reason)
	if i < 0 {
		return 0
	}
	return d.n[i].Load()
}

// Total is how many messages were lost so far, all reasons together.
func (d *Drops) Total() uint64 {
	var t uint64
	for i := range d.n {
		t += d.n[i].Load()
	}
	return t
}

// limitDrops works out how many messages the spool stream's limits
// removed before the writer had written them. In a work-queue stream a
// message leaves by an ack (or term) or by the limits; so what left the
// stream since the writer started (LastSeq - Msgs - base) minus what it
// acknowledged (counted once the server confirmed the batch's acks) is
// what the limits dropped. A held batch that the limits removed and that
// is written anyway is rightly not a drop.
type limitDrops struct {
	acked    atomic.Uint64
	mu       sync.Mutex
	base     uint64 // messages gone from the stream before the start
	counted  uint64 // drops already reported
	lastCand uint64 // drops seen by the previous observation
	held     map[uint64]struct{}
}

// reset starts over from the stream state si, at the writer's start.
func (l *limitDrops) reset(si *jetstream.StreamInfo) {
	l.mu.Lock()
	l.base, l.counted, l.lastCand = si.State.LastSeq-si.State.Msgs, 0, 0
	l.held = make(map[uint64]struct{})
	l.mu.Unlock()
	l.acked.Store(0)
}

// acknowledged counts n messages whose acks (or terms) the server took.
func (l *limitDrops) acknowledged(n int) { l.acked.Add(uint64(n)) }

// hold records that the writer holds the message with stream sequence
// seq.
func (l *limitDrops) hold(seq uint64) {
	l.mu.Lock()
	l.held[seq] = struct{}{}
	l.mu.Unlock()
}

// release forgets held messages (acknowledged, termed or handed back).
func (l *limitDrops) release(items []item) {
	l.mu.Lock()
	for _, it := range items {
		delete(l.held, it.seq)
	}
	l.mu.Unlock()
}

// observe returns how many drops the stream state si (read before this
// call) shows that were not reported yet. Messages the writer holds were
// removed too if they are below the first sequence, but they will be
// written: they are not drops. A message on its way to the writer at the
// moment of si would look dropped, so a drop is only reported once two
// observations agree.
func (l *limitDrops) observe(si *jetstream.StreamInfo) uint64 {
	acked := l.acked.Load() // after si: includes every ack si reflects
	l.mu.Lock()
	defer l.mu.Unlock()
	var heldGone uint64
	for seq := range l.held {
		if seq < si.State.FirstSeq {
			heldGone++
		}
	}
	var cand uint64
	if gone := si.State.LastSeq - si.State.Msgs - l.base; gone > acked+heldGone {
		cand = gone - acked - heldGone
	}
	sure := min(cand, l.lastCand)
	l.lastCand = cand
	if sure <= l.counted {
		return 0
	}
	n := sure - l.counted
	l.counted = sure
	return n
}
