package rules

import (
	"maps"

	"github.com/roomwatch/roomwatch/collectors"
)

// snapshot records in the alert the values and limits its messages show:
// those of sample set s, or without one (s nil) what the last transition
// showed.
func (e *Engine) snapshot(in *instance, s *collectors.SampleSet) {
	c := in.cr
	vals := map[string]collectors.Value{}
	thr := in.limits()
	switch c.kind {
	case kindDisagree:
		// The readings the last evaluation compared.
		for name, r := range in.room.latest[c.idx] {
			vals[name+"."+c.r.Disagree.Value] = r.v
		}
	case kindSensorFault:
		if s != nil {
			for _, v := range s.Values {
				if v.Quality == collectors.SensorFault {
					vals[v.Name] = v
				}
			}
			if len(vals) == 0 && in.a.State == Inactive {
				// Resolved: the values that were at fault, as they read
				// now, so the recovery says what is back.
				for name := range in.a.Values {
					if v, ok := s.Get(name); ok {
						vals[name] = v
					}
				}
			}
		}
	}
	if s != nil && c.kind != kindDisagree {
		for _, n := range c.names {
			if v, ok := s.Get(n); ok {
				vals[n] = v
			}
		}
	}
	if s == nil && in.a.Values != nil {
		// No sample set: keep what the last transition showed.
		vals = maps.Clone(in.a.Values)
	}
	in.a.Values, in.a.Thresholds = vals, thr
}

// limits returns the limits the rule compares with, by name.
func (in *instance) limits() map[string]float64 {
	c := in.cr
	thr := map[string]float64{}
	switch c.kind {
	case kindDisagree:
		thr["by"] = in.threshold
	case kindBand:
		b := c.r.Band
		if b.Above != nil {
			thr["above"] = in.threshold
			if b.Clear != nil {
				thr["clear"] = in.threshold - (*b.Above - *b.Clear)
			}
		} else {
			thr["below"] = in.threshold
			if b.Clear != nil {
				thr["clear"] = in.threshold + (*b.Clear - *b.Below)
			}
		}
	case kindRate:
		if c.r.Rate.Above != nil {
			thr["above"] = in.threshold
		} else {
			thr["below"] = in.threshold
		}
		thr["window_min"] = c.r.Rate.Window.Minutes()
	case kindStuck:
		thr["for_h"] = c.r.Stuck.For.Hours()
	case kindNoData:
		thr["polls"] = in.threshold
	case kindCondition:
		if c.hasThr {
			thr["threshold"] = in.threshold
		}
		if in.room != nil {
			for _, id := range c.cond.idents {
				if f, ok := in.room.facts[id]; ok {
					thr[id] = f
				}
			}
		}
	}
	return thr
}
