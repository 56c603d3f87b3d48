package rules

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// roomKey identifies a room of a site.
type roomKey struct{ site, room string }

// devEntry is the engine's view of one device.
type devEntry struct {
	dev   collectors.Device
	info  *DeviceInfo // nil when not in the inventory
	room  *roomEntry  // nil for a device outside any configured room
	rules []*crule
	inst  []*instance // parallel to rules, created lazily
	// seen: a sample set arrived; lastSeen: when; fails: failed polls
	// in a row.
	seen     bool
	lastSeen time.Time
	fails    int
	// env is the expression environment of the latest sample set.
	env devEnv
	// last is a copy of the latest sample set, for the values of an
	// alert that changes state on a tick.
	last collectors.SampleSet
}

// keep copies s as the device's latest sample set, reusing the copy's
// storage.
func (de *devEntry) keep(s *collectors.SampleSet) {
	vals := append(de.last.Values[:0], s.Values...)
	de.last = *s
	de.last.Values = vals
}

// lastSet returns the sample set the instance's last evaluation saw: its
// device's latest, or nil for a room-wide instance or a device that has
// not reported.
func (in *instance) lastSet() *collectors.SampleSet {
	if in.dev == nil || !in.dev.seen {
		return nil
	}
	return &in.dev.last
}

// roomEntry is one room: facts, and the state of room-wide rules.
type roomEntry struct {
	site  string
	name  string
	room  *Room
	title map[string]string // site title
	facts map[string]float64
	// wide are room-wide instances (disagree) by rule index.
	wide map[int]*instance
	// latest readings per rule index, per device.
	latest map[int]map[string]reading
}

// reading is one device's latest value compared by a room-wide rule.
type reading struct {
	v  collectors.Value
	at time.Time
}

// instance is one rule applied to one device or room.
type instance struct {
	a    Alert
	cr   *crule
	dev  *devEntry  // nil for a room-wide instance
	room *roomEntry // nil for a device outside any configured room
	// threshold is the rule's primary threshold for this site and room
	// (overrides applied); thresholdEnv is the same number as the
	// expression environment holds it.
	threshold    float64
	thresholdEnv any
	// forDuration is the rule's `for` for this site and room.
	forDuration time.Duration
	// lastResult is the last evaluation before the calendar gate.
	lastResult result
	// clearSince is when a firing alert's condition last started to be
	// clear (zero while it holds).
	clearSince time.Time
	// firings are the times the alert fired within the flap window.
	firings []time.Time
	// hist is the history of a rate or stuck rule, nil for other rules.
	hist *history
	// primary is the rule's main value as last evaluated (shown as
	// .Value); hasPrimary says whether it was there and good.
	primary collectors.Value
	// figure is a computed number shown as .Value instead of the
	// primary value (rate, hours stuck, failed polls, spread);
	// hasFigure says whether the last evaluation computed one.
	figure                float64
	hasPrimary, hasFigure bool
	// primaryPos is where the primary value was in the device's last
	// sample set, the first place to look for it in the next one.
	primaryPos int
	// condMemo and clearMemo remember the last evaluation of the
	// condition and clear expressions.
	condMemo, clearMemo memo
}

// history is what a rate or stuck rule remembers between evaluations,
// apart from the instance so that the instances of every other rule (most
// of them) do not carry it.
type history struct {
	// rate holds the primary value over a rate rule's window.
	rate []point
	// stuckRef is the value a stuck rule compares with, seen first at
	// stuckSince; hasStuckRef says whether there is one.
	stuckRef    float64
	stuckSince  time.Time
	hasStuckRef bool
}

// history returns the instance's history, creating it.
func (in *instance) history() *history {
	if in.hist == nil {
		in.hist = &history{}
	}
	return in.hist
}

// point is one value of a rate rule's history.
type point struct {
	t time.Time
	v float64
}

// roomFor returns the entry of room of site, creating it.
func (e *Engine) roomFor(site, room string) *roomEntry {
	key := roomKey{site, room}
	re := e.rooms[key]
	if re == nil {
		re = &roomEntry{site: site, name: room, facts: map[string]float64{}, wide: map[int]*instance{},
			latest: map[int]map[string]reading{}}
		e.rooms[key] = re
	}
	return re
}

// entry returns the device's entry, (re)computing its rules when the
// device is new or its identity changed.
func (e *Engine) entry(d collectors.Device) *devEntry {
	k := d.Key()
	de := e.devices[k]
	if de != nil && de.dev.Profile == d.Profile && de.dev.Class == d.Class && maps.Equal(de.dev.Labels, d.Labels) {
		return de
	}
	if de == nil {
		de = &devEntry{}
		e.devices[k] = de
	}
	de.dev = d
	if re, ok := e.rooms[roomKey{d.Site, d.Room}]; ok {
		de.room = re
	}
	// The identity changed (or the inventory and the poller disagree on
	// profile, class or labels): rematch, keeping the alerts of rules
	// that still match.
	oldRules, oldInst := de.rules, de.inst
	de.rules = e.index.lookup(d)
	de.inst = make([]*instance, len(de.rules))
	for i, c := range de.rules {
		if j := slices.Index(oldRules, c); j >= 0 && oldInst[j] != nil {
			de.inst[i] = oldInst[j] // its labels follow de.dev
			oldInst[j] = nil
		}
	}
	for _, in := range oldInst {
		if in != nil {
			e.resolveOrphan(e.now, in)
		}
	}
	return de
}

// Fingerprint is the stable identity of rule applied to site/room/device.
func Fingerprint(rule, site, room, device string) string {
	h := fnv.New64a()
	for _, s := range []string{rule, site, room, device} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// where returns the site, room and device (empty for a room-wide alert)
// the alert is about.
func (in *instance) where() (site, room, device string) {
	switch l := in.a.Labels; {
	case l != nil:
		return l[LabelSite], l[LabelRoom], l[LabelDevice]
	case in.dev != nil:
		return in.dev.dev.Site, in.dev.dev.Room, in.dev.dev.Name
	}
	return in.room.site, in.room.name, ""
}

// labels returns a new map of the alert's labels (LabelSite…): those it
// was restored with, or else made from its rule and its device or room.
// An instance made here keeps none: they differ from one rule of a device
// to the next only by the rule's name, and a map in every (rule, device)
// instance was a third of its memory; they are needed only when the
// alert changes state.
func (in *instance) labels() map[string]string {
	if in.a.Labels != nil {
		return maps.Clone(in.a.Labels)
	}
	site, room, device := in.where()
	l := map[string]string{LabelRule: in.cr.r.Name, LabelSite: site, LabelRoom: room, LabelDevice: device}
	if in.dev != nil {
		l[LabelProfile], l[LabelClass] = in.dev.dev.Profile, in.dev.dev.Class
	} else {
		l[LabelProfile], l[LabelClass] = in.cr.r.Match.Profile, in.cr.r.Match.Class
	}
	return l
}

// alert returns a copy of the instance's alert with its own maps, its
// labels included.
func (in *instance) alert() Alert {
	a := copyAlert(in.a)
	a.Labels = in.labels()
	return a
}

// newInstance applies rule c to device de (nil for a room-wide rule) in
// room re, taking over the state carried for its fingerprint.
func (e *Engine) newInstance(c *crule, de *devEntry, re *roomEntry) *instance {
	in := &instance{cr: c, dev: de, room: re}
	site, room, device := in.where()
	in.a = Alert{Rule: c.r.Name, Severity: c.r.Severity, Fingerprint: Fingerprint(c.r.Name, site, room, device)}
	in.threshold, in.forDuration = c.thr, c.r.For
	o := e.override(c.r.Name, site, re)
	if o.Threshold != nil {
		in.threshold = *o.Threshold
	}
	if o.For != nil {
		in.forDuration = *o.For
	}
	if o.Severity != "" {
		in.a.Severity = o.Severity
	}
	in.thresholdEnv = in.threshold
	if old, ok := e.carried[in.a.Fingerprint]; ok {
		delete(e.carried, in.a.Fingerprint)
		in.takeOver(old)
	}
	return in
}

// takeOver continues the alert state of old, an instance of the same
// fingerprint from before a restart or reload; the runtime history too
// when the rule did not change.
func (in *instance) takeOver(old *instance) {
	if old.cr != nil && old.cr.r.equal(&in.cr.r) {
		in.lastResult, in.clearSince, in.firings, in.hist = old.lastResult, old.clearSince, old.firings, old.hist
	}
	a := old.a
	in.a.State, in.a.ActiveAt, in.a.FiredAt, in.a.ResolvedAt = a.State, a.ActiveAt, a.FiredAt, a.ResolvedAt
	in.a.LastEval, in.a.Values, in.a.Thresholds, in.a.Text, in.a.FlapCount = a.LastEval, a.Values, a.Thresholds, a.Text, a.FlapCount
	if len(in.firings) == 0 && a.FlapCount > 0 && !a.FiredAt.IsZero() {
		// Restored: remember the last firing for flap counting.
		in.firings = []time.Time{a.FiredAt}
	}
}

// each calls f for every instance of every device and room.
func (e *Engine) each(f func(*instance)) {
	for _, de := range e.devices {
		for _, in := range de.inst {
			if in != nil {
				f(in)
			}
		}
	}
	for _, re := range e.rooms {
		for _, in := range re.wide {
			f(in)
		}
	}
}
