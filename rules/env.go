package rules

import (
	"math"

	"github.com/roomwatch/roomwatch/collectors"
)

// devEnv is a device's expression environment: its room's facts, the
// good values of its latest sample set by name, and dew_point_c derived
// from temperature_c and humidity_pct. A device reports the same values in
// the same order and quality poll after poll, so the environment is kept
// between sample sets and a new set only replaces the values that changed,
// instead of the map being rebuilt and every value boxed again.
type devEnv struct {
	vars map[string]any
	// room is the room whose facts vars holds.
	room *roomEntry
	// vals are the values vars was built from, in sample order.
	vals []envValue
	// t and h index the temperature and humidity of the set (-1: none
	// good); dew says whether vars holds a dew point derived from them.
	t, h int
	dew  bool
	// unique: the set names each value once. reuse: vars may be updated
	// in place: the set names each value once, none of them threshold or
	// dew_point_c (names the engine sets itself), and no room fact is
	// called threshold.
	unique, reuse bool
}

// envValue is one sample value as vars holds it.
type envValue struct {
	name string
	kind collectors.Kind
	good bool
	num  uint64 // math.Float64bits of Num
	str  string
}

// fill makes the environment that of sample set s of a device in room re
// (nil outside any configured room).
func (d *devEnv) fill(s *collectors.SampleSet, re *roomEntry) {
	if !d.sameShape(s, re) {
		d.build(s, re)
		return
	}
	redew := false
	for i := range s.Values {
		v, ev := &s.Values[i], &d.vals[i]
		if !ev.good || (math.Float64bits(v.Num) == ev.num && v.Str == ev.str) {
			continue
		}
		ev.num, ev.str = math.Float64bits(v.Num), v.Str
		d.vars[v.Name] = v.Any()
		redew = redew || i == d.t || i == d.h
	}
	if d.dew && redew {
		d.dewPoint(s)
	}
}

// sameShape reports whether s names the same values, of the same kinds
// and goodness, in the same order as the set vars was built from, and
// whether the dew point is still derived (or not): then vars differs from
// the environment of s only by the values that changed.
func (d *devEnv) sameShape(s *collectors.SampleSet, re *roomEntry) bool {
	if !d.reuse || d.room != re || len(s.Values) != len(d.vals) {
		return false
	}
	for i := range s.Values {
		v, ev := &s.Values[i], &d.vals[i]
		if v.Name != ev.name || v.Kind != ev.kind || (v.Quality == collectors.Good) != ev.good {
			return false
		}
	}
	return d.dew == d.hasDew(s)
}

// build makes vars anew: the room's facts, then the good values in
// order (a later value of a name replacing an earlier one), then the dew
// point.
func (d *devEnv) build(s *collectors.SampleSet, re *roomEntry) {
	if d.vars == nil {
		d.vars = map[string]any{}
	}
	clear(d.vars)
	d.room = re
	if re != nil {
		for k, v := range re.facts {
			d.vars[k] = v
		}
	}
	d.vals = d.vals[:0]
	d.t, d.h = -1, -1
	for i := range s.Values {
		v := &s.Values[i]
		ev := envValue{name: v.Name, kind: v.Kind, good: v.Quality == collectors.Good}
		if ev.good {
			ev.num, ev.str = math.Float64bits(v.Num), v.Str
			d.vars[v.Name] = v.Any()
			switch v.Name {
			case "temperature_c":
				d.t = i
			case "humidity_pct":
				d.h = i
			}
		}
		d.vals = append(d.vals, ev)
	}
	d.dew = d.hasDew(s)
	if d.dew {
		d.dewPoint(s)
	}
	d.unique = collectors.UniqueNames(s.Values)
	// A name the engine sets itself would need its value restored for
	// every set: such a device has vars rebuilt each time.
	_, threshold := d.vars["threshold"]
	d.reuse = d.unique && !threshold && valueIndex(s.Values, "dew_point_c") < 0
}

// hasDew reports whether set s, at the temperature and humidity indexes
// t and h, gives a dew point: both good and a positive humidity.
func (d *devEnv) hasDew(s *collectors.SampleSet) bool {
	return d.t >= 0 && d.h >= 0 && s.Values[d.h].Num > 0
}

// dewPoint sets dew_point_c from the temperature and humidity of s.
func (d *devEnv) dewPoint(s *collectors.SampleSet) {
	d.vars["dew_point_c"] = DewPoint(s.Values[d.t].Num, s.Values[d.h].Num)
}

// memo is the last evaluation of a pure expression: while the names it
// reads keep their values, its result is the same.
type memo struct {
	args      []any // values of program.idents
	valid     bool
	out, isOK bool // results of Engine.run
}

// holds reports whether the memo's value of ident i is exactly v
// (numbers compared by bits, so that 0 and -0 differ).
func (m *memo) holds(i int, v any) bool {
	switch a := m.args[i].(type) {
	case float64:
		b, ok := v.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	case bool:
		b, ok := v.(bool)
		return ok && a == b
	case string:
		b, ok := v.(string)
		return ok && a == b
	}
	return false
}

// DewPoint returns the dew point in °C of air at t °C and rh % relative
// humidity (Magnus formula, Sonntag constants; ±0.35 °C for -45…60 °C).
func DewPoint(t, rh float64) float64 {
	const a, b = 17.62, 243.12
	g := math.Log(rh/100) + a*t/(b+t)
	return b * g / (a - g)
}
