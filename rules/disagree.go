package rules

import (
	"math"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// defaultMaxAge is how old a reading a disagree rule compares may be when
// the rule sets no max_age.
const defaultMaxAge = 5 * time.Minute

// evalDisagree updates the room's latest reading of the device and
// compares the room's probes.
func (e *Engine) evalDisagree(now time.Time, c *crule, de *devEntry, s *collectors.SampleSet) {
	re := de.room
	in := re.wide[c.idx]
	if in == nil {
		in = e.newInstance(c, nil, re)
		re.wide[c.idx] = in
	}
	lat := re.latest[c.idx]
	if lat == nil {
		lat = map[string]reading{}
		re.latest[c.idx] = lat
	}
	d := c.r.Disagree
	if v, ok := goodNum(s, d.Value); ok {
		lat[de.dev.Name] = reading{v: v, at: now}
	} else if s.Reachable() {
		delete(lat, de.dev.Name)
	}
	maxAge := d.MaxAge
	if maxAge == 0 {
		maxAge = defaultMaxAge
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	// What is left in lat are the readings compared, which snapshot
	// shows.
	for name, r := range lat {
		if now.Sub(r.at) > maxAge {
			delete(lat, name)
			continue
		}
		n++
		lo, hi = min(lo, r.v.Num), max(hi, r.v.Num)
		if !in.hasPrimary {
			in.primary, in.hasPrimary = r.v, true
		}
	}
	res := resUnknown
	if n >= 2 {
		res = in.spread(hi - lo)
	}
	in.lastResult = res
	e.advance(now, in, e.gate(now, in, res), s)
}

// spread judges the difference between a room's highest and lowest
// reading.
func (in *instance) spread(spread float64) result {
	d := in.cr.r.Disagree
	in.figure, in.hasFigure = spread, true
	cl := in.threshold
	if d.Clear != nil {
		cl = in.threshold - (d.By - *d.Clear)
	}
	switch {
	case spread >= in.threshold:
		return resFire
	case d.Clear == nil || spread < cl:
		return resClear
	}
	return resHold
}
