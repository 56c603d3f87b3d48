package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Override changes a rule for one site or room the way the people there
// tune it, without copying the rule: its threshold, `for` and severity.
// A field left unset keeps the rule's (or, for a room, its site's).
type Override struct {
	// Threshold replaces the rule's main limit: a condition's
	// `threshold`, a band's or rate's bound (a band's clear bound moves
	// by the same amount), nodata's polls, disagree's `by`.
	Threshold *float64 `yaml:"threshold"`
	// For replaces how long the condition must hold before the alarm
	// fires (0: at once).
	For *time.Duration `yaml:"for"`
	// Severity replaces the rule's severity.
	Severity Severity `yaml:"severity"`
}

// over returns o with the fields it leaves unset taken from base.
func (o Override) over(base Override) Override {
	if o.Threshold == nil {
		o.Threshold = base.Threshold
	}
	if o.For == nil {
		o.For = base.For
	}
	if o.Severity == "" {
		o.Severity = base.Severity
	}
	return o
}

// hasThreshold reports whether the rule has a main limit an Override may
// replace.
func (r *Rule) hasThreshold() bool {
	return r.Threshold != nil || r.Band != nil || r.Rate != nil || r.NoData != nil || r.Disagree != nil
}

// ValidateOverrides adds to errs every problem of the overrides ov of
// rules rs, naming fields under path ("sites[0].rooms[1].rules"): a rule
// that does not exist, a threshold for a rule without one, a `for` under
// a second, an unknown severity.
func ValidateOverrides(errs *yamlconf.Errors, path string, rs []Rule, ov map[string]Override) {
	names := make([]string, 0, len(ov))
	for name := range ov {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		o, p := ov[name], path+"."+name
		i := slices.IndexFunc(rs, func(r Rule) bool { return r.Name == name })
		if i < 0 {
			errs.Addf(p, "no rule called %q", name)
			continue
		}
		r := &rs[i]
		if o.Threshold != nil && !r.hasThreshold() {
			errs.Addf(p+".threshold", "rule %s has no threshold to change (%s)", name, kindList(r))
		}
		if o.For != nil && (*o.For < 0 || (*o.For > 0 && *o.For < time.Second)) {
			errs.Addf(p+".for", "%v: must be 0 or at least 1s (write 5m, 30s)", *o.For)
		}
		if o.Severity != "" && !o.Severity.Valid() {
			errs.Addf(p+".severity", "%q: want critical, major, minor or warning", o.Severity)
		}
		if o.Threshold == nil && o.For == nil && o.Severity == "" {
			errs.Addf(p, "changes nothing: set threshold, for or severity")
		}
	}
}

// kindList names the rule's kind for a message ("a sensor_fault rule").
func kindList(r *Rule) string {
	k := r.kind()
	if len(k) == 0 {
		return "no kind"
	}
	return fmt.Sprintf("a %s rule", k[0])
}

// override returns the override of rule name for the site and room of an
// instance: the room's over the site's.
func (e *Engine) override(name, site string, re *roomEntry) Override {
	var o Override
	if re != nil && re.room != nil {
		o = re.room.Overrides[name]
	}
	if s := e.sites[site]; s != nil {
		o = o.over(s.Overrides[name])
	}
	return o
}
