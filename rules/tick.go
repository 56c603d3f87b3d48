package rules

import (
	"slices"
	"strings"
	"time"
)

// Tick advances time-based transitions at now: `for` and
// `keep_firing_for` elapsing, calendar windows opening and closing, flap
// holds, and no-data for inventory devices (a device that stopped
// answering, or never answered since the engine started). Call it
// periodically (every second or so); it does not need new samples.
func (e *Engine) Tick(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observe(now)
	for si := range e.inv.Sites {
		for ri := range e.inv.Sites[si].Rooms {
			for _, d := range e.inv.Sites[si].Rooms[ri].Devices {
				// A device that reported keeps the identity its samples
				// carry; the inventory's is used until then.
				de := e.devices[d.Device.Key()]
				if de == nil || !de.seen {
					de = e.entry(d.Device)
				}
				for i, c := range de.rules {
					if c.kind != kindNoData {
						continue
					}
					in := de.inst[i]
					if in == nil {
						in = e.newInstance(c, de, de.room)
						de.inst[i] = in
					}
					res := e.noDataTick(now, de, c)
					if res != resUnknown {
						in.lastResult = res
					}
				}
			}
		}
	}
	e.each(func(in *instance) {
		e.advance(now, in, e.gate(now, in, in.lastResult), in.lastSet())
	})
	for fp, in := range e.carried {
		if (in.cr == nil && e.byName[in.a.Rule] == nil) || !e.inv.configured(in.where()) {
			// Restored alert of a rule that no longer exists, or of a
			// site or device no longer configured: nothing will ever
			// evaluate it again.
			delete(e.carried, fp)
			e.resolveOrphan(now, in)
		}
	}
	e.flush()
}

// configured reports whether the inventory still has the site, and the
// device of a configured room, that an alert is about. An empty
// inventory knows nothing, and a room it does not list (the monitor's
// own device) may have any device: both count as configured.
func (inv *Inventory) configured(site, room, device string) bool {
	if len(inv.Sites) == 0 {
		return true
	}
	i := slices.IndexFunc(inv.Sites, func(s Site) bool { return s.Name == site })
	if i < 0 {
		return false
	}
	rooms := inv.Sites[i].Rooms
	j := slices.IndexFunc(rooms, func(r Room) bool { return r.Name == room })
	if j < 0 || device == "" {
		return true
	}
	return slices.ContainsFunc(rooms[j].Devices, func(d DeviceInfo) bool { return d.Device.Name == device })
}

// noDataTick judges a device's silence at now.
func (e *Engine) noDataTick(now time.Time, de *devEntry, c *crule) result {
	if de.info == nil || de.info.Interval <= 0 {
		return resUnknown
	}
	iv := de.info.Interval
	limit := time.Duration(c.r.NoData.Polls)*iv + iv/2
	switch {
	case !de.seen:
		if now.Sub(e.start) > limit {
			return resFire
		}
		return resUnknown
	case de.fails >= c.r.NoData.Polls || now.Sub(de.lastSeen) > limit:
		return resFire
	case de.fails == 0:
		return resClear
	}
	return resHold
}

// withdrawn ends the text of an alarm resolved because nothing evaluates
// it any more: it is not a recovery, and its last values are stale.
var withdrawn = map[string]string{
	LangZh: "（已不再监测此项，告警解除）",
	LangEn: " (no longer monitored, alarm withdrawn)",
}

// resolveOrphan resolves a firing alert whose rule or device is gone.
// Its text is the alarm's own, marked withdrawn: no recovery template is
// rendered, since no current value says it is back to normal.
func (e *Engine) resolveOrphan(now time.Time, in *instance) {
	if in.a.State != Firing {
		return
	}
	if len(in.a.Text) == 0 && in.cr != nil {
		e.render(now, in)
	}
	from := in.a.State
	in.a.State = Inactive
	in.a.ResolvedAt = now
	in.a.LastEval = now
	text := map[string]string{}
	for lang, t := range in.a.Text {
		text[lang] = prefix(lang, Inactive, in.a.Severity) + stripPrefix(t) + withdrawn[lang]
	}
	in.a.Text = text
	e.out = append(e.out, Transition{Alert: in.alert(), From: from, To: Inactive, At: now})
}

func stripPrefix(t string) string {
	if strings.HasPrefix(t, "【") {
		if i := strings.Index(t, "】"); i >= 0 {
			return t[i+len("】"):]
		}
	}
	if strings.HasPrefix(t, "[") {
		if i := strings.Index(t, "] "); i >= 0 {
			return t[i+2:]
		}
	}
	return t
}
