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
	// What was observed of a device is not configuration: a device that
	// answered a moment ago is not "silent since start" under the new
	// configuration (its no-data rule would fire until the next poll),
	// and its last values still stand.
	for k, de := range ne.devices {
		if old := e.devices[k]; old != nil {
			de.seen, de.lastSeen, de.fails, de.last = old.seen, old.lastSeen, old.fails, old.last
		}
	}
	e.byName, e.index, e.inv = ne.byName, ne.index, ne.inv
	e.sites, e.devices, e.rooms, e.carried = ne.sites, ne.devices, ne.rooms, carried
	e.flush()
	return nil
}
