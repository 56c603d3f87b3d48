package rules

import (
	"math"
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// result is what one evaluation of a rule says about its condition.
type result int

const (
	// resUnknown: the rule cannot tell (a value missing or not good):
	// the alert keeps its state.
	resUnknown result = iota
	// resFire: the condition holds.
	resFire
	// resHold: neither fire nor clear (inside a hysteresis band).
	resHold
	// resClear: the condition does not hold.
	resClear
)

// evalRule evaluates a per-device rule on one sample set, whose
// expression environment is d.
func (e *Engine) evalRule(now time.Time, in *instance, s *collectors.SampleSet, d *devEnv) result {
	c := in.cr
	in.hasPrimary, in.hasFigure = false, false
	if c.primary != "" {
		if v, ok := goodAt(s, c.primary, d.unique, &in.primaryPos); ok {
			in.primary, in.hasPrimary = v, true
		}
	}
	switch c.kind {
	case kindCondition:
		res := e.condition(in, d)
		if c.r.Threshold != nil && !d.reuse {
			// A rule with a threshold leaves none in the environment,
			// as eval does, not even one that the sample set or a room
			// fact names so: the rules after it do not see one.
			delete(d.vars, "threshold")
		}
		return res
	case kindBand:
		return in.evalBand()
	case kindRate:
		return in.evalRate(now)
	case kindStuck:
		return in.evalStuck(now)
	case kindNoData:
		return in.evalNoData(s)
	case kindSensorFault:
		return in.evalSensorFault(s)
	}
	return resUnknown
}

// evalBand compares the primary value with the band's firing bound and,
// once beyond it, with its clear bound.
func (in *instance) evalBand() result {
	if !in.hasPrimary {
		return resUnknown
	}
	b := in.cr.r.Band
	v := in.primary.Num
	if b.Above != nil {
		cl := in.threshold
		if b.Clear != nil {
			cl = in.threshold - (*b.Above - *b.Clear)
		}
		switch {
		case v > in.threshold:
			return resFire
		case b.Clear == nil || v < cl:
			return resClear
		}
		return resHold
	}
	cl := in.threshold
	if b.Clear != nil {
		cl = in.threshold + (*b.Clear - *b.Below)
	}
	switch {
	case v < in.threshold:
		return resFire
	case b.Clear == nil || v > cl:
		return resClear
	}
	return resHold
}

// evalRate adds the primary value to the rate history and compares the
// change per minute over the window with the threshold.
func (in *instance) evalRate(now time.Time) result {
	if !in.hasPrimary {
		return resUnknown
	}
	r, h := in.cr.r.Rate, in.history()
	h.rate = append(h.rate, point{now, in.primary.Num})
	cut := 0
	for cut < len(h.rate)-1 && now.Sub(h.rate[cut].t) > r.Window {
		cut++
	}
	h.rate = h.rate[cut:]
	span := now.Sub(h.rate[0].t)
	if span < r.Window/2 || span <= 0 {
		return resUnknown
	}
	rate := (in.primary.Num - h.rate[0].v) / span.Minutes()
	in.figure, in.hasFigure = rate, true
	if (r.Above != nil && rate >= in.threshold) || (r.Below != nil && rate <= in.threshold) {
		return resFire
	}
	return resClear
}

// evalStuck fires when the primary value stayed within tolerance of its
// reference for the rule's duration.
func (in *instance) evalStuck(now time.Time) result {
	if !in.hasPrimary {
		return resUnknown
	}
	st, h := in.cr.r.Stuck, in.history()
	if !h.hasStuckRef || math.Abs(in.primary.Num-h.stuckRef) > st.Tolerance {
		h.stuckRef, h.stuckSince, h.hasStuckRef = in.primary.Num, now, true
		return resClear
	}
	in.figure, in.hasFigure = now.Sub(h.stuckSince).Hours(), true
	if now.Sub(h.stuckSince) >= st.For {
		return resFire
	}
	return resClear
}

// evalNoData fires after the rule's number of failed polls in a row.
func (in *instance) evalNoData(s *collectors.SampleSet) result {
	in.figure, in.hasFigure = float64(in.dev.fails), true
	switch {
	case s.Reachable():
		return resClear
	case in.dev.fails >= in.cr.r.NoData.Polls:
		return resFire
	}
	return resHold
}

// evalSensorFault fires while a value the rule watches has quality
// sensor-fault; the first such value becomes the primary one.
func (in *instance) evalSensorFault(s *collectors.SampleSet) result {
	if !s.Reachable() {
		return resUnknown
	}
	watch := in.cr.r.SensorFault.Values
	faulty := false
	for _, v := range s.Values {
		if v.Quality == collectors.SensorFault && (len(watch) == 0 || slices.Contains(watch, v.Name)) {
			if !faulty {
				in.primary, in.hasPrimary = v, true
			}
			faulty = true
		}
	}
	if faulty {
		return resFire
	}
	return resClear
}

// goodNum returns the value called name and whether it is there and good.
func goodNum(s *collectors.SampleSet, name string) (collectors.Value, bool) {
	v, ok := s.Get(name)
	if !ok || v.Quality != collectors.Good {
		return v, false
	}
	return v, true
}

// goodAt is goodNum looking first at index *at, where the value was in
// the device's previous sample set, and remembering where it found it.
// The hint is trusted only when the set names each value once (unique),
// so that it finds the same value as Get: the first of that name.
func goodAt(s *collectors.SampleSet, name string, unique bool, at *int) (collectors.Value, bool) {
	i := *at
	if !unique || i >= len(s.Values) || s.Values[i].Name != name {
		i = valueIndex(s.Values, name)
		if i < 0 {
			return collectors.Value{}, false
		}
		*at = i
	}
	v := &s.Values[i]
	return *v, v.Quality == collectors.Good
}

// valueIndex returns the position of the first value called name, or -1.
func valueIndex(vals []collectors.Value, name string) int {
	for i := range vals {
		if vals[i].Name == name {
			return i
		}
	}
	return -1
}
