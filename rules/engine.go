package rules

import (
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/roomwatch/roomwatch/collectors"
)

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithValueTitles sets how the engine names a value in alarm texts and
// alerts: titles(profile, name) gives its Chinese and English display name
// (profiles.Set.ValueTitle: the profile's title, else the built-in
// table). Default: collectors.ValueTitle.
func WithValueTitles(titles func(profile, name string) collectors.Title) Option {
	return func(e *Engine) { e.titles = titles }
}

// ReportPending makes the engine report transitions into and out of
// Pending too (by default only Firing and its resolution are reported).
func ReportPending() Option { return func(e *Engine) { e.pending = true } }

// Engine evaluates rules against sample sets. It is safe for concurrent
// use; calls are serialized.
type Engine struct {
	mu      sync.Mutex
	log     *slog.Logger
	notify  NotifyFunc
	pending bool
	titles  func(profile, name string) collectors.Title

	byName map[string]*crule
	index  index
	inv    Inventory

	sites   map[string]*Site
	devices map[collectors.DeviceKey]*devEntry
	rooms   map[roomKey]*roomEntry
	// carried are alert states waiting for their instance to be created:
	// from Restore, or active alerts carried over by Update.
	carried map[string]*instance

	start time.Time // first time seen
	now   time.Time // latest time seen
	vm    vm.VM
	out   []Transition
}

// NewEngine compiles rules against an inventory. notify receives every
// batch of transitions (may be nil).
func NewEngine(rules []Rule, inv Inventory, notify NotifyFunc, opts ...Option) (*Engine, error) {
	e := &Engine{notify: notify, log: slog.New(slog.DiscardHandler), carried: map[string]*instance{},
		titles: func(_, name string) collectors.Title { return collectors.ValueTitle(name) }}
	for _, o := range opts {
		o(e)
	}
	if err := e.load(rules, inv); err != nil {
		return nil, err
	}
	return e, nil
}

// load compiles rules and takes the inventory: its sites, rooms with
// their facts, and devices.
func (e *Engine) load(rules []Rule, inv Inventory) error {
	rs, byName, err := compileRules(rules)
	if err != nil {
		return err
	}
	e.byName, e.index, e.inv = byName, buildIndex(rs), inv
	e.devices = map[collectors.DeviceKey]*devEntry{}
	e.rooms = map[roomKey]*roomEntry{}
	e.sites = map[string]*Site{}
	for si := range inv.Sites {
		s := &inv.Sites[si]
		e.sites[s.Name] = s
		for ri := range s.Rooms {
			r := &s.Rooms[ri]
			re := e.roomFor(s.Name, r.Name)
			re.room, re.title = r, s.Title
			if r.CarryTime > 0 {
				re.facts["carry_time_min"] = r.CarryTime.Minutes()
			}
			maps.Copy(re.facts, r.Facts)
			for di := range r.Devices {
				d := &r.Devices[di]
				de := e.entry(d.Device)
				de.info = d
			}
		}
	}
	return nil
}

// observe notes now as the latest time seen (and the first).
func (e *Engine) observe(now time.Time) {
	if e.start.IsZero() {
		e.start = now
	}
	if now.After(e.now) {
		e.now = now
	}
}

// Eval evaluates every rule matching the sample set's device, at now, and
// notifies the transitions it caused.
func (e *Engine) Eval(now time.Time, s collectors.SampleSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observe(now)
	de := e.entry(s.Device)
	de.seen, de.lastSeen = true, now
	if s.Reachable() {
		de.fails = 0
	} else {
		de.fails++
	}
	de.env.fill(&s, de.room)
	de.keep(&s)
	for i, c := range de.rules {
		if c.kind == kindDisagree {
			if de.room == nil {
				de.room = e.roomFor(s.Device.Site, s.Device.Room)
			}
			e.evalDisagree(now, c, de, &s)
			continue
		}
		in := de.inst[i]
		if in == nil {
			in = e.newInstance(c, de, de.room)
			de.inst[i] = in
		}
		res := e.evalRule(now, in, &s, &de.env)
		in.lastResult = res
		e.advance(now, in, e.gate(now, in, res), &s)
	}
	e.flush()
}

// flush hands the queued transitions to the notify func.
func (e *Engine) flush() {
	if len(e.out) == 0 {
		return
	}
	ts := e.out
	e.out = nil
	if e.notify != nil {
		e.notify(ts)
	}
}
