package rules

// Update swaps in a new rule set and inventory (SIGHUP). The new rules
// are compiled first; on error the engine keeps the old ones. Alerts of
// rules that still exist and still match keep their state (by
// fingerprint), with their history if the rule is unchanged; firing
// alerts whose rule was removed or no longer matches resolve now.
func (e *Engine) Update(rules []Rule, inv Inventory) error {
	ne := &Engine{log: e.log, carried: map[string]*instance{}}
	if err := ne.load(rules, inv); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	carried := map[string]*instance{}
	keep := func(in *instance) {
		nc := ne.byName[in.a.Rule]
		switch {
		case nc == nil, in.dev != nil && !nc.r.Match.matches(in.dev.dev):
			e.resolveOrphan(e.now, in)
		case in.cr == nil || in.a.State != Inactive || nc.r.equal(&in.cr.r):
			carried[in.a.Fingerprint] = in
		}
	}
	e.each(keep)
	for _, in := range e.carried {
		keep(in)
	}
	e.byName, e.index, e.inv = ne.byName, ne.index, ne.inv
	e.sites, e.devices, e.rooms, e.carried = ne.sites, ne.devices, ne.rooms, carried
	e.flush()
	return nil
}
