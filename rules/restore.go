package rules

import (
	"maps"
	"slices"
	"strings"
)

// Alerts returns the state of every pending or firing alert, for storing
// and a later Restore. Sorted by fingerprint.
func (e *Engine) Alerts() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	e.each(func(in *instance) {
		if in.a.State != Inactive {
			out = append(out, in.alert())
		}
	})
	for _, in := range e.carried {
		if in.a.State != Inactive {
			out = append(out, in.alert())
		}
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	return out
}

// copyAlert returns a with its maps copied.
func copyAlert(a Alert) Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Values = maps.Clone(a.Values)
	a.Thresholds = maps.Clone(a.Thresholds)
	a.Text = maps.Clone(a.Text)
	a.Titles = maps.Clone(a.Titles)
	a.ValueTitles = maps.Clone(a.ValueTitles)
	return a
}

// Restore loads alert states saved from Alerts (e.g. from a key-value
// bucket after a restart). A restored firing alert is not announced
// again; if its condition cleared meanwhile, the first evaluation
// resolves it (and notifies that). The first Tick resolves a restored
// alert of a rule, site or device no longer configured. Call before the
// first Eval.
func (e *Engine) Restore(alerts []Alert) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range alerts {
		if a.State == Inactive || a.Fingerprint == "" {
			continue
		}
		in := &instance{a: copyAlert(a)}
		placed := false
		e.each(func(x *instance) {
			if x.a.Fingerprint == a.Fingerprint {
				x.a.State, x.a.ActiveAt, x.a.FiredAt, x.a.FlapCount = a.State, a.ActiveAt, a.FiredAt, a.FlapCount
				placed = true
			}
		})
		if !placed {
			e.carried[a.Fingerprint] = in
		}
	}
}
