package rules

import (
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// gate applies the rule's calendar: outside its window a known result
// counts as clear.
func (e *Engine) gate(now time.Time, in *instance, res result) result {
	if res == resUnknown || in.cr.r.When == nil || in.cr.r.When.open(now) {
		return res
	}
	return resClear
}

// advance moves an instance's state machine with one evaluation result.
// s is the sample set evaluated (on a tick, the device's latest; nil for
// a room-wide rule or a device that has not reported).
func (e *Engine) advance(now time.Time, in *instance, res result, s *collectors.SampleSet) {
	if res == resUnknown {
		return
	}
	in.a.LastEval = now
	switch res {
	case resFire:
		e.holds(now, in, s)
	case resHold:
		switch in.a.State {
		case Pending:
			e.deactivate(now, in, s)
		case Firing:
			in.clearSince = time.Time{}
		}
	case resClear:
		switch in.a.State {
		case Pending:
			e.deactivate(now, in, s)
		case Firing:
			e.clears(now, in, s)
		}
	}
}

// holds advances an alert whose condition holds: Inactive becomes
// Pending (or Firing at once without `for`), Pending becomes Firing once
// `for` elapsed.
func (e *Engine) holds(now time.Time, in *instance, s *collectors.SampleSet) {
	a := &in.a
	in.clearSince = time.Time{}
	switch a.State {
	case Inactive:
		a.ActiveAt = now
		if in.forDuration <= 0 {
			e.fire(now, in, Inactive, s)
			return
		}
		a.State = Pending
		if e.pending {
			e.emit(now, in, Inactive, s)
		}
	case Pending:
		if now.Sub(a.ActiveAt) >= in.forDuration {
			e.fire(now, in, Pending, s)
		}
	}
}

// clears advances a firing alert whose condition is clear: it resolves
// once it stayed clear for keep_firing_for (or the flap hold while it
// flaps).
func (e *Engine) clears(now time.Time, in *instance, s *collectors.SampleSet) {
	if in.clearSince.IsZero() {
		in.clearSince = now
	}
	r := &in.cr.r
	keep := r.KeepFiringFor
	if f := r.Flap; f != nil && e.flapCount(now, in) >= f.Max {
		h := f.Hold
		if h == 0 {
			h = f.Window
		}
		keep = max(keep, h)
	}
	if now.Sub(in.clearSince) >= keep {
		in.a.State = Inactive
		in.a.ResolvedAt = now
		in.clearSince = time.Time{}
		e.emit(now, in, Firing, s)
	}
}

// deactivate returns a pending alert to Inactive: its condition stopped
// holding before `for` ran out.
func (e *Engine) deactivate(now time.Time, in *instance, s *collectors.SampleSet) {
	in.a.State = Inactive
	in.a.ActiveAt = time.Time{}
	if e.pending {
		e.emit(now, in, Pending, s)
	}
}

// flapCount forgets the firings older than the flap window and returns
// how many are left.
func (e *Engine) flapCount(now time.Time, in *instance) int {
	f := in.cr.r.Flap
	if f == nil {
		return len(in.firings)
	}
	cut := 0
	for cut < len(in.firings) && now.Sub(in.firings[cut]) > f.Window {
		cut++
	}
	in.firings = in.firings[cut:]
	in.a.FlapCount = len(in.firings)
	return len(in.firings)
}

// fire raises the alert.
func (e *Engine) fire(now time.Time, in *instance, from State, s *collectors.SampleSet) {
	in.a.State = Firing
	in.a.FiredAt = now
	in.a.ResolvedAt = time.Time{}
	if in.cr.r.Flap != nil {
		in.firings = append(in.firings, now)
		e.flapCount(now, in)
	}
	e.emit(now, in, from, s)
}

// emit snapshots values, renders texts and queues a transition.
func (e *Engine) emit(now time.Time, in *instance, from State, s *collectors.SampleSet) {
	e.snapshot(in, s)
	e.render(now, in)
	a := in.a
	a.Labels = in.labels()
	e.out = append(e.out, Transition{Alert: a, From: from, To: in.a.State, At: now})
}
