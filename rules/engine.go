package rules

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

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

	byName map[string]*crule
	index  index
	inv    Inventory

	devices map[devKey]*devEntry
	rooms   map[roomKey]*roomEntry
	// carried are alert states waiting for their instance to be created:
	// from Restore, or active alerts carried over by Update.
	carried map[string]*instance

	start time.Time // first time seen
	now   time.Time // latest time seen
	vm    vm.VM
	out   []Transition
}

// devKey identifies a device as Device.ID does, without building a
// string for every sample set.
type devKey struct{ site, room, name string }

func keyOf(d *collectors.Device) devKey { return devKey{d.Site, d.Room, d.Name} }

// roomKey identifies a room of a site.
type roomKey struct{ site, room string }

// index finds candidate rules for a device by the most selective field
// each rule matches on, so evaluation cost does not grow with the total
// number of rules.
type index struct {
	byDevice, byRoom, byProfile, byClass, bySite map[string][]*crule
	all                                          []*crule
}

func buildIndex(rs []*crule) index {
	ix := index{byDevice: map[string][]*crule{}, byRoom: map[string][]*crule{},
		byProfile: map[string][]*crule{}, byClass: map[string][]*crule{}, bySite: map[string][]*crule{}}
	for _, c := range rs {
		m := c.r.Match
		switch {
		case m.Device != "":
			ix.byDevice[m.Device] = append(ix.byDevice[m.Device], c)
		case m.Room != "":
			ix.byRoom[m.Room] = append(ix.byRoom[m.Room], c)
		case m.Profile != "":
			ix.byProfile[m.Profile] = append(ix.byProfile[m.Profile], c)
		case m.Class != "":
			ix.byClass[m.Class] = append(ix.byClass[m.Class], c)
		case m.Site != "":
			ix.bySite[m.Site] = append(ix.bySite[m.Site], c)
		default:
			ix.all = append(ix.all, c)
		}
	}
	return ix
}

func (ix *index) lookup(d collectors.Device) []*crule {
	var out []*crule
	for _, list := range [][]*crule{ix.byDevice[d.Name], ix.byRoom[d.Room], ix.byProfile[d.Profile],
		ix.byClass[d.Class], ix.bySite[d.Site], ix.all} {
		for _, c := range list {
			if c.r.Match.matches(d) {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b *crule) int { return a.idx - b.idx })
	return out
}

func (m *Match) matches(d collectors.Device) bool {
	if (m.Site != "" && m.Site != d.Site) || (m.Room != "" && m.Room != d.Room) ||
		(m.Device != "" && m.Device != d.Name) || (m.Profile != "" && m.Profile != d.Profile) ||
		(m.Class != "" && m.Class != d.Class) {
		return false
	}
	for k, v := range m.Labels {
		if d.Labels[k] != v {
			return false
		}
	}
	return true
}

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

type reading struct {
	v  collectors.Value
	at time.Time
}

// instance is one rule applied to one device or room.
type instance struct {
	a    Alert
	cr   *crule
	dev  *devEntry
	room *roomEntry
	thr  float64
	// raw is the last evaluation before the calendar gate.
	raw        result
	clearSince time.Time
	fires      []time.Time
	// rate history, stuck reference.
	hist   []point
	ref    float64
	refAt  time.Time
	hasRef bool
	// snapshot for messages
	pv   collectors.Value // primary value
	hasV bool
	vnum float64 // computed figure (rate, spread, polls) shown as .Value
	hasN bool
	// at is where the primary value was in the device's last sample set,
	// the first place to look for it in the next one.
	at int
	// thrEnv is thr as the expression environment holds it.
	thrEnv any
	// cond and clear remember the last evaluation of the condition and
	// clear expressions.
	cond, clear memo
}

type point struct {
	t time.Time
	v float64
}

type result int

const (
	unknown result = iota
	fire
	hold // neither fire nor clear (inside a hysteresis band)
	resClear
)

// NewEngine compiles rules against an inventory. notify receives every
// batch of transitions (may be nil).
func NewEngine(rules []Rule, inv Inventory, notify NotifyFunc, opts ...Option) (*Engine, error) {
	e := &Engine{notify: notify, log: slog.New(slog.DiscardHandler), carried: map[string]*instance{}}
	for _, o := range opts {
		o(e)
	}
	if err := e.load(rules, inv); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Engine) load(rules []Rule, inv Inventory) error {
	var rs []*crule
	byName := map[string]*crule{}
	errs := &yamlconf.Errors{}
	for i, r := range rules {
		if r.Disabled {
			continue
		}
		if _, dup := byName[r.Name]; dup {
			return fmt.Errorf("rule %q: duplicate name", r.Name)
		}
		// Rules built in Go rather than parsed get the same checks.
		cals := map[string]*Calendar{}
		if w := r.When; w != nil && w.Calendar != nil {
			cals[w.Inside+w.Outside] = w.Calendar
		}
		validateRule(errs, fmt.Sprintf("rules[%d]", i), &r, cals)
		if err := errs.Err(); err != nil {
			return fmt.Errorf("rule %q: %w", r.Name, err)
		}
		c, err := compileRule(i, r)
		if err != nil {
			return err
		}
		rs = append(rs, c)
		byName[r.Name] = c
	}
	e.byName, e.index, e.inv = byName, buildIndex(rs), inv
	e.devices = map[devKey]*devEntry{}
	e.rooms = map[roomKey]*roomEntry{}
	for si := range inv.Sites {
		s := &inv.Sites[si]
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
	k := keyOf(&d)
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
			in := oldInst[j]
			in.a.Labels[LabelProfile], in.a.Labels[LabelClass] = d.Profile, d.Class
			de.inst[i] = in
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

func (e *Engine) newInstance(c *crule, de *devEntry, re *roomEntry) *instance {
	in := &instance{cr: c, dev: de, room: re}
	labels := map[string]string{LabelRule: c.r.Name}
	if de != nil {
		labels[LabelSite], labels[LabelRoom], labels[LabelDevice] = de.dev.Site, de.dev.Room, de.dev.Name
		labels[LabelProfile], labels[LabelClass] = de.dev.Profile, de.dev.Class
	} else {
		labels[LabelSite], labels[LabelRoom], labels[LabelDevice] = re.site, re.name, ""
		labels[LabelProfile], labels[LabelClass] = c.r.Match.Profile, c.r.Match.Class
	}
	in.a = Alert{Rule: c.r.Name, Labels: labels, Severity: c.r.Severity,
		Fingerprint: Fingerprint(c.r.Name, labels[LabelSite], labels[LabelRoom], labels[LabelDevice])}
	in.thr = c.thr
	if re != nil && re.room != nil {
		if v, ok := re.room.Thresholds[c.r.Name]; ok {
			in.thr = v
		}
	}
	in.thrEnv = in.thr
	if old, ok := e.carried[in.a.Fingerprint]; ok {
		delete(e.carried, in.a.Fingerprint)
		if old.cr != nil && old.cr.r.equal(&c.r) {
			// Unchanged rule: keep everything, runtime history included.
			in.raw, in.clearSince, in.fires, in.hist = old.raw, old.clearSince, old.fires, old.hist
			in.ref, in.refAt, in.hasRef = old.ref, old.refAt, old.hasRef
		}
		a := old.a
		in.a.State, in.a.ActiveAt, in.a.FiredAt, in.a.ResolvedAt = a.State, a.ActiveAt, a.FiredAt, a.ResolvedAt
		in.a.LastEval, in.a.Values, in.a.Thresholds, in.a.Text, in.a.FlapCount = a.LastEval, a.Values, a.Thresholds, a.Text, a.FlapCount
		if len(in.fires) == 0 && a.FlapCount > 0 && !a.FiredAt.IsZero() {
			// Restored: remember the last firing for flap counting.
			in.fires = []time.Time{a.FiredAt}
		}
	}
	return in
}

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
		in.raw = res
		e.advance(now, in, e.gate(now, in, res), &s)
	}
	e.flush()
}

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

func (e *Engine) gate(now time.Time, in *instance, res result) result {
	if res == unknown || in.cr.r.When == nil || in.cr.r.When.open(now) {
		return res
	}
	return resClear
}

// DewPoint returns the dew point in °C of air at t °C and rh % relative
// humidity (Magnus formula, Sonntag constants; ±0.35 °C for -45…60 °C).
func DewPoint(t, rh float64) float64 {
	const a, b = 17.62, 243.12
	g := math.Log(rh/100) + a*t/(b+t)
	return b * g / (a - g)
}

// run evaluates p in the device's environment d: its result, and whether
// it is known (every name it reads is in the environment and it evaluates
// to a bool). m is the memo of the instance's last run of p, reused while
// the names keep their values.
func (e *Engine) run(in *instance, p *program, m *memo, d *devEnv) (bool, bool) {
	if len(m.args) != len(p.idents) {
		m.args = make([]any, len(p.idents))
	}
	same := m.valid && p.pure
	for i, id := range p.idents {
		v, ok := in.thrEnv, true
		if id != "threshold" || in.cr.r.Threshold == nil {
			v, ok = d.vars[id]
		}
		if !ok {
			m.valid = false
			return false, false
		}
		if same && !m.holds(i, v) {
			same = false
		}
		m.args[i] = v
	}
	if same {
		return m.out, m.isOK
	}
	m.valid = true
	m.out, m.isOK = e.eval(in, p, d)
	return m.out, m.isOK
}

// eval runs p's program in d, with threshold set to the instance's
// threshold if its rule has one.
func (e *Engine) eval(in *instance, p *program, d *devEnv) (bool, bool) {
	if in.cr.r.Threshold != nil {
		d.vars["threshold"] = in.thrEnv
		defer delete(d.vars, "threshold")
	}
	out, err := e.vm.Run(p.prog, d.vars)
	if err != nil {
		if !in.cr.warned {
			in.cr.warned = true
			e.log.Warn("rule condition cannot be evaluated", "rule", in.cr.r.Name, "err", err)
		}
		return false, false
	}
	b, ok := out.(bool)
	return b, ok
}

func goodNum(s *collectors.SampleSet, name string) (collectors.Value, bool) {
	v, ok := s.Get(name)
	if !ok || v.Quality != collectors.Good {
		return v, false
	}
	return v, true
}

// goodAt is goodNum looking first at index *at, where the value was in
// the device's previous sample set, and remembering where it found it.
// The hint is trusted only when the set names each value once (unique),
// so that it finds the same value as Get: the first of that name.
func goodAt(s *collectors.SampleSet, name string, unique bool, at *int) (collectors.Value, bool) {
	i := *at
	if !unique || i >= len(s.Values) || s.Values[i].Name != name {
		i = valueIndex(s.Values, name)
		if i < 0 {
			return collectors.Value{}, false
		}
		*at = i
	}
	v := &s.Values[i]
	return *v, v.Quality == collectors.Good
}

// valueIndex returns the position of the first value called name, or -1.
func valueIndex(vals []collectors.Value, name string) int {
	for i := range vals {
		if vals[i].Name == name {
			return i
		}
	}
	return -1
}

// evalRule evaluates a per-device rule on one sample set, whose
// expression environment is d.
func (e *Engine) evalRule(now time.Time, in *instance, s *collectors.SampleSet, d *devEnv) result {
	c := in.cr
	in.hasV, in.hasN = false, false
	if c.primary != "" {
		if v, ok := goodAt(s, c.primary, d.unique, &in.at); ok {
			in.pv, in.hasV = v, true
		}
	}
	switch c.kind {
	case kindCondition:
		res := e.condition(in, d)
		if c.r.Threshold != nil && !d.reuse {
			// A rule with a threshold leaves none in the environment,
			// as eval does, not even one that the sample set or a room
			// fact names so: the rules after it do not see one.
			delete(d.vars, "threshold")
		}
		return res
	case kindBand:
		if !in.hasV {
			return unknown
		}
		b := c.r.Band
		v := in.pv.Num
		if b.Above != nil {
			cl := in.thr
			if b.Clear != nil {
				cl = in.thr - (*b.Above - *b.Clear)
			}
			switch {
			case v > in.thr:
				return fire
			case b.Clear == nil || v < cl:
				return resClear
			}
			return hold
		}
		cl := in.thr
		if b.Clear != nil {
			cl = in.thr + (*b.Clear - *b.Below)
		}
		switch {
		case v < in.thr:
			return fire
		case b.Clear == nil || v > cl:
			return resClear
		}
		return hold
	case kindRate:
		if !in.hasV {
			return unknown
		}
		r := c.r.Rate
		in.hist = append(in.hist, point{now, in.pv.Num})
		cut := 0
		for cut < len(in.hist)-1 && now.Sub(in.hist[cut].t) > r.Window {
			cut++
		}
		in.hist = in.hist[cut:]
		span := now.Sub(in.hist[0].t)
		if span < r.Window/2 || span <= 0 {
			return unknown
		}
		rate := (in.pv.Num - in.hist[0].v) / span.Minutes()
		in.vnum, in.hasN = rate, true
		if (r.Above != nil && rate >= in.thr) || (r.Below != nil && rate <= in.thr) {
			return fire
		}
		return resClear
	case kindStuck:
		if !in.hasV {
			return unknown
		}
		st := c.r.Stuck
		if !in.hasRef || math.Abs(in.pv.Num-in.ref) > st.Tolerance {
			in.ref, in.refAt, in.hasRef = in.pv.Num, now, true
			return resClear
		}
		in.vnum, in.hasN = now.Sub(in.refAt).Hours(), true
		if now.Sub(in.refAt) >= st.For {
			return fire
		}
		return resClear
	case kindNoData:
		in.vnum, in.hasN = float64(in.dev.fails), true
		switch {
		case s.Reachable():
			return resClear
		case in.dev.fails >= c.r.NoData.Polls:
			return fire
		}
		return hold
	case kindSensorFault:
		if !s.Reachable() {
			return unknown
		}
		faulty := false
		for _, v := range s.Values {
			if v.Quality == collectors.SensorFault &&
				(len(c.r.SensorFault.Values) == 0 || slices.Contains(c.r.SensorFault.Values, v.Name)) {
				if !faulty {
					in.pv, in.hasV = v, true
				}
				faulty = true
			}
		}
		if faulty {
			return fire
		}
		return resClear
	}
	return unknown
}

// condition evaluates a condition rule's expressions.
func (e *Engine) condition(in *instance, d *devEnv) result {
	c := in.cr
	ok, known := e.run(in, c.cond, &in.cond, d)
	switch {
	case !known:
		return unknown
	case ok:
		return fire
	case c.clear == nil:
		return resClear
	}
	if cl, known := e.run(in, c.clear, &in.clear, d); known && cl {
		return resClear
	}
	return hold
}

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
		maxAge = 5 * time.Minute
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
		if !in.hasV {
			in.pv, in.hasV = r.v, true
		}
	}
	res := unknown
	if n >= 2 {
		spread := hi - lo
		in.vnum, in.hasN = spread, true
		cl := in.thr
		if d.Clear != nil {
			cl = in.thr - (d.By - *d.Clear)
		}
		switch {
		case spread >= in.thr:
			res = fire
		case d.Clear == nil || spread < cl:
			res = resClear
		default:
			res = hold
		}
	}
	in.raw = res
	e.advance(now, in, e.gate(now, in, res), s)
}

// advance moves an instance's state machine with one evaluation result.
func (e *Engine) advance(now time.Time, in *instance, res result, s *collectors.SampleSet) {
	if res == unknown {
		return
	}
	in.a.LastEval = now
	c := in.cr
	a := &in.a
	switch res {
	case fire:
		in.clearSince = time.Time{}
		switch a.State {
		case Inactive:
			a.ActiveAt = now
			if c.r.For <= 0 {
				e.fire(now, in, Inactive, s)
				return
			}
			a.State = Pending
			if e.pending {
				e.emit(now, in, Inactive, s)
			}
		case Pending:
			if now.Sub(a.ActiveAt) >= c.r.For {
				e.fire(now, in, Pending, s)
			}
		}
	case hold:
		switch a.State {
		case Pending:
			e.deactivate(now, in, s)
		case Firing:
			in.clearSince = time.Time{}
		}
	case resClear:
		switch a.State {
		case Pending:
			e.deactivate(now, in, s)
		case Firing:
			if in.clearSince.IsZero() {
				in.clearSince = now
			}
			keep := c.r.KeepFiringFor
			if f := c.r.Flap; f != nil && e.flapCount(now, in) >= f.Max {
				h := f.Hold
				if h == 0 {
					h = f.Window
				}
				keep = max(keep, h)
			}
			if now.Sub(in.clearSince) >= keep {
				a.State = Inactive
				a.ResolvedAt = now
				in.clearSince = time.Time{}
				e.emit(now, in, Firing, s)
			}
		}
	}
}

func (e *Engine) deactivate(now time.Time, in *instance, s *collectors.SampleSet) {
	in.a.State = Inactive
	in.a.ActiveAt = time.Time{}
	if e.pending {
		e.emit(now, in, Pending, s)
	}
}

func (e *Engine) flapCount(now time.Time, in *instance) int {
	f := in.cr.r.Flap
	if f == nil {
		return len(in.fires)
	}
	cut := 0
	for cut < len(in.fires) && now.Sub(in.fires[cut]) > f.Window {
		cut++
	}
	in.fires = in.fires[cut:]
	in.a.FlapCount = len(in.fires)
	return len(in.fires)
}

func (e *Engine) fire(now time.Time, in *instance, from State, s *collectors.SampleSet) {
	in.a.State = Firing
	in.a.FiredAt = now
	in.a.ResolvedAt = time.Time{}
	if in.cr.r.Flap != nil {
		in.fires = append(in.fires, now)
		e.flapCount(now, in)
	}
	e.emit(now, in, from, s)
}

// emit snapshots values, renders texts and queues a transition.
func (e *Engine) emit(now time.Time, in *instance, from State, s *collectors.SampleSet) {
	e.snapshot(in, s)
	e.render(now, in)
	a := in.a
	a.Labels = maps.Clone(a.Labels)
	e.out = append(e.out, Transition{Alert: a, From: from, To: in.a.State, At: now})
}

func (e *Engine) snapshot(in *instance, s *collectors.SampleSet) {
	c := in.cr
	vals := map[string]collectors.Value{}
	thr := map[string]float64{}
	switch c.kind {
	case kindDisagree:
		// The readings the last evaluation compared.
		for name, r := range in.room.latest[c.idx] {
			vals[name+"."+c.r.Disagree.Value] = r.v
		}
		thr["by"] = in.thr
	case kindSensorFault:
		if s != nil {
			for _, v := range s.Values {
				if v.Quality == collectors.SensorFault {
					vals[v.Name] = v
				}
			}
		}
	case kindBand:
		b := c.r.Band
		if b.Above != nil {
			thr["above"] = in.thr
			if b.Clear != nil {
				thr["clear"] = in.thr - (*b.Above - *b.Clear)
			}
		} else {
			thr["below"] = in.thr
			if b.Clear != nil {
				thr["clear"] = in.thr + (*b.Clear - *b.Below)
			}
		}
	case kindRate:
		if c.r.Rate.Above != nil {
			thr["above"] = in.thr
		} else {
			thr["below"] = in.thr
		}
		thr["window_min"] = c.r.Rate.Window.Minutes()
	case kindStuck:
		thr["for_h"] = c.r.Stuck.For.Hours()
	case kindNoData:
		thr["polls"] = in.thr
	case kindCondition:
		if c.hasThr {
			thr["threshold"] = in.thr
		}
		if in.room != nil {
			for _, id := range c.cond.idents {
				if f, ok := in.room.facts[id]; ok {
					thr[id] = f
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
		// Tick: keep what the last sample showed.
		vals = maps.Clone(in.a.Values)
	}
	in.a.Values, in.a.Thresholds = vals, thr
}

// fmtNum prints a number rounded to one decimal, without trailing zeros.
func fmtNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func fmtValue(v collectors.Value) string {
	switch x := v.Any().(type) {
	case float64:
		return fmtNum(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return ""
}

// Alerts returns the state of every pending or firing alert, for storing
// and a later Restore. Sorted by fingerprint.
func (e *Engine) Alerts() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	e.each(func(in *instance) {
		if in.a.State != Inactive {
			out = append(out, copyAlert(in.a))
		}
	})
	for _, in := range e.carried {
		if in.a.State != Inactive {
			out = append(out, copyAlert(in.a))
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		switch {
		case a.Fingerprint < b.Fingerprint:
			return -1
		case a.Fingerprint > b.Fingerprint:
			return 1
		}
		return 0
	})
	return out
}

func copyAlert(a Alert) Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Values = maps.Clone(a.Values)
	a.Thresholds = maps.Clone(a.Thresholds)
	a.Text = maps.Clone(a.Text)
	return a
}

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

// Restore loads alert states saved from Alerts (e.g. from a key-value
// bucket after a restart). A restored firing alert is not announced
// again; if its condition cleared meanwhile, the first evaluation
// resolves it (and notifies that). Call before the first Eval.
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
