package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/rules"
)

// Options are what a Tracker needs beyond its configuration.
type Options struct {
	// Sites are the sites whose alarm streams are followed.
	Sites []string
	// Inventory gives room titles, carry times, facts and devices.
	Inventory rules.Inventory
	// Alarms is the alarm layout (stream prefix); zero fields default.
	Alarms alerts.Config
	// State, if set, is the alarm state bucket: at start the tracker
	// reads the active alarms from it, so a timed condition (mains lost
	// for a share of the carry time) is not missed across a restart.
	State jetstream.KeyValue
	// Now is the clock (default time.Now).
	Now func() time.Time
}

type roomKey struct{ site, room string }

type openKey struct{ site, room, class string }

// Tracker opens incidents from the alarm streams and runs their clocks:
// it reminds before a deadline and raises an overdue alarm after it,
// through the alarm publisher, and resolves both when the report is
// signed.
type Tracker struct {
	cfg   *Config
	store *Store
	js    jetstream.JetStream
	pub   *alerts.Publisher
	opt   Options
	rooms map[roomKey]*rules.Room
	log   *slog.Logger

	mu        sync.Mutex
	active    map[roomKey]map[string]*alerts.Alarm
	open      map[openKey]string // → incident key
	tracked   map[string]bool    // incident keys whose clocks run
	caught    map[string]bool    // site → its consumer has read the backlog
	consumers map[string]jetstream.ConsumeContext

	cancel context.CancelFunc
	done   chan struct{}
}

// NewTracker returns a Tracker writing incidents through store and
// publishing reminders through pub. cfg must be defaulted and valid.
func NewTracker(cfg *Config, store *Store, js jetstream.JetStream, pub *alerts.Publisher, opt Options, log *slog.Logger) (*Tracker, error) {
	if len(opt.Sites) == 0 {
		return nil, errors.New("incident tracker: no site")
	}
	opt.Alarms.Defaults()
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tracker{
		cfg: cfg, store: store, js: js, pub: pub, opt: opt,
		rooms:     map[roomKey]*rules.Room{},
		log:       log.With("component", "incident-tracker"),
		active:    map[roomKey]map[string]*alerts.Alarm{},
		open:      map[openKey]string{},
		tracked:   map[string]bool{},
		caught:    map[string]bool{},
		consumers: map[string]jetstream.ConsumeContext{},
	}
	for _, s := range opt.Inventory.Sites {
		for i := range s.Rooms {
			t.rooms[roomKey{s.Name, s.Rooms[i].Name}] = &s.Rooms[i]
		}
	}
	return t, nil
}

// Start restores the open incidents and active alarms, attaches the
// durable consumers (a missing alarm stream is retried every tick) and
// launches the loop that checks the clocks every TickInterval.
func (t *Tracker) Start(ctx context.Context) error {
	if err := t.restore(ctx); err != nil {
		return err
	}
	t.attach(ctx)
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go t.loop(ctx)
	return nil
}

// Stop stops the loop and the consumers and waits for them.
func (t *Tracker) Stop(ctx context.Context) error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	<-t.done
	t.mu.Lock()
	ccs := slices.Collect(maps.Values(t.consumers))
	t.mu.Unlock()
	for _, cc := range ccs {
		cc.Stop()
	}
	for _, cc := range ccs {
		select {
		case <-cc.Closed():
		case <-ctx.Done():
			return fmt.Errorf("incident tracker: stop: %w", ctx.Err())
		}
	}
	return nil
}

func (t *Tracker) loop(ctx context.Context) {
	defer close(t.done)
	tk := time.NewTicker(t.cfg.TickInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.attach(ctx)
			if err := t.Tick(ctx); err != nil {
				t.log.Error("incident clocks", "err", err)
			}
		}
	}
}

// restore reads the incidents whose episode or clocks are not over, and
// the active alarms from the state bucket when one is given.
func (t *Tracker) restore(ctx context.Context) error {
	all, err := t.store.List(ctx, "")
	if err != nil {
		return fmt.Errorf("incident tracker: restore: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, in := range all {
		if in.Active() {
			t.open[openKey{in.Site, in.Room, in.Class}] = in.Key()
			for _, r := range in.Alarms {
				if r.State != alerts.Resolved {
					t.remember(&alerts.Alarm{ID: r.ID, Fingerprint: r.Fingerprint, Rule: r.Rule, Severity: r.Severity,
						State: r.State, Site: in.Site, Room: in.Room, Device: r.Device, StartedAt: r.StartedAt})
				}
			}
		}
		if !clocksDone(in) {
			t.tracked[in.Key()] = true
		}
	}
	if t.opt.State != nil {
		alarms, err := alerts.LoadState(ctx, t.opt.State)
		if err != nil {
			t.log.Warn("alarm state partly unreadable", "err", err)
		}
		for _, a := range alerts.ActiveOnly(alarms) {
			if slices.Contains(t.opt.Sites, a.Site) {
				t.remember(a)
			}
		}
	}
	return nil
}

// clocksDone: signed and every raised alarm resolved, or every deadline
// cleared.
func clocksDone(in *Incident) bool {
	if in.Signed == nil {
		return false
	}
	for _, d := range in.Deadlines {
		if (d.RemindedAt != nil || d.OverdueAt != nil) && d.ClearedAt == nil {
			return false
		}
	}
	return true
}

// attach creates or binds the durable consumer of each site not yet
// followed. A site whose stream does not exist yet is tried again on the
// next tick.
func (t *Tracker) attach(ctx context.Context) {
	for _, site := range t.opt.Sites {
		t.mu.Lock()
		_, ok := t.consumers[site]
		t.mu.Unlock()
		if ok {
			continue
		}
		cc, err := t.consume(ctx, site)
		if err != nil {
			t.log.Warn("alarm stream not followed yet", "site", site, "err", err)
			continue
		}
		t.mu.Lock()
		t.consumers[site] = cc
		t.mu.Unlock()
	}
}

func (t *Tracker) consume(ctx context.Context, site string) (jetstream.ConsumeContext, error) {
	stream := alerts.AlarmStreamName(t.opt.Alarms.StreamPrefix, site)
	cc := jetstream.ConsumerConfig{
		Durable:       t.cfg.Durable,
		Description:   "roomwatch incident tracker",
		FilterSubject: alerts.SiteAlarmSubjects(site),
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 256,
	}
	start := t.opt.Now().Add(-t.cfg.Lookback)
	cc.OptStartTime = &start
	cons, err := t.js.Consumer(ctx, stream, t.cfg.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = t.js.CreateConsumer(ctx, stream, cc)
	}
	if err != nil {
		return nil, fmt.Errorf("alarm stream %s: consumer %s: %w", stream, t.cfg.Durable, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("alarm stream %s: consumer %s: %w", stream, t.cfg.Durable, err)
	}
	if info.NumPending == 0 && info.NumAckPending == 0 {
		t.mu.Lock()
		t.caught[site] = true
		t.mu.Unlock()
	}
	log := t.log.With("site", site)
	return cons.Consume(func(m jetstream.Msg) { t.handle(ctx, site, m, log) })
}

func (t *Tracker) handle(ctx context.Context, site string, m jetstream.Msg, log *slog.Logger) {
	a, err := alerts.Unmarshal(m.Data())
	if err != nil {
		log.Warn("alarm message skipped", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	if err := t.Observe(ctx, a); err != nil {
		log.Error("alarm not applied to incidents, will retry", "alarm", a.ID, "err", err)
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
		t.mu.Lock()
		t.caught[site] = true
		t.mu.Unlock()
	}
	_ = m.Ack()
}

// remember updates the set of active alarms of a's room.
func (t *Tracker) remember(a *alerts.Alarm) {
	rk := roomKey{a.Site, a.Room}
	set := t.active[rk]
	if a.Active() {
		if set == nil {
			set = map[string]*alerts.Alarm{}
			t.active[rk] = set
		}
		set[a.ID] = a.Clone()
		return
	}
	delete(set, a.ID)
	if len(set) == 0 {
		delete(t.active, rk)
	}
}

// Observe applies one alarm message: it is added to the open incidents of
// its room, ends the episode of a class when it was the class's last
// active alarm, and opens an incident when a class's condition is now
// met. Applying the same message twice changes nothing. The consumer
// calls it; it is exported for tests and for a caller that has the alarm
// at hand.
func (t *Tracker) Observe(ctx context.Context, a *alerts.Alarm) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.Rule == RuleDue || a.Rule == RuleOverdue {
		return nil // our own reminders
	}
	t.remember(a)
	var errs []error
	for ok, key := range t.open {
		if ok.site != a.Site || ok.room != a.Room {
			continue
		}
		k := t.cfg.class(ok.class)
		last := k != nil && k.Match.matches(a) && !a.Active() && !t.anyActive(k, ok.site, ok.room)
		_, err := t.store.update(ctx, key, func(in *Incident) (bool, error) {
			changed := false
			if a.Active() || in.hasAlarm(a.ID) { // not an older alarm's resolution
				changed = in.addAlarm(a)
			}
			if last && in.ResolvedAt == nil {
				end := a.UpdatedAt
				if a.EndedAt != nil {
					end = *a.EndedAt
				}
				in.ResolvedAt, changed = &end, true
			}
			if changed {
				in.UpdatedAt = t.opt.Now()
			}
			return changed, nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if last {
			delete(t.open, ok)
		}
	}
	if a.Active() {
		for i := range t.cfg.Classes {
			k := &t.cfg.Classes[i]
			if k.Match.matches(a) {
				errs = append(errs, t.evaluate(ctx, k, roomKey{a.Site, a.Room}))
			}
		}
	}
	return errors.Join(errs...)
}

func (t *Tracker) anyActive(k *Class, site, room string) bool {
	for _, b := range t.active[roomKey{site, room}] {
		if k.Match.matches(b) {
			return true
		}
	}
	return false
}

// Tick checks the timed conditions and the clocks at the tracker's now:
// it opens incidents whose mains loss has lasted long enough, raises
// reminders and overdue alarms, and resolves them once a report is
// signed. The loop calls it every TickInterval; tests call it with a
// fake clock.
func (t *Tracker) Tick(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for rk := range t.active {
		if !t.caught[rk.site] {
			continue // a replayed firing may be followed by its resolution
		}
		for i := range t.cfg.Classes {
			if k := &t.cfg.Classes[i]; k.Condition.Kind == CondMainsLost {
				errs = append(errs, t.evaluate(ctx, k, rk))
			}
		}
	}
	for key := range t.tracked {
		done, err := t.clock(ctx, key)
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			delete(t.tracked, key)
		}
	}
	return errors.Join(errs...)
}

// evaluate opens an incident of class k in room rk when its condition is
// met by the room's active alarms. Called with mu held.
func (t *Tracker) evaluate(ctx context.Context, k *Class, rk roomKey) error {
	ok := openKey{rk.site, rk.room, k.Name}
	if _, isOpen := t.open[ok]; isOpen {
		return nil
	}
	var matching []*alerts.Alarm
	for _, a := range t.active[rk] {
		if k.Match.matches(a) {
			matching = append(matching, a)
		}
	}
	if len(matching) == 0 {
		return nil
	}
	slices.SortFunc(matching, func(a, b *alerts.Alarm) int { return a.StartedAt.Compare(b.StartedAt) })
	room := t.rooms[rk]
	first, opened, met := matching[0], time.Time{}, false
	switch k.Condition.Kind {
	case CondAny:
		opened, met = first.StartedAt, true
	case CondAbove:
		for _, a := range matching {
			if r, has := a.Values[k.Condition.Value]; has && r.Quality == "" && r.Value >= k.limit(room) {
				first, opened, met = a, a.StartedAt, true
				break
			}
		}
	case CondRoomUnreachable:
		if room == nil || len(room.Devices) == 0 {
			return nil
		}
		down := map[string]time.Time{}
		for _, a := range matching {
			if _, seen := down[a.Device]; !seen {
				down[a.Device] = a.StartedAt
			}
		}
		for _, d := range room.Devices {
			at, isDown := down[d.Device.Name]
			if !isDown {
				return nil
			}
			opened = later(opened, at)
		}
		met = true
	case CondMainsLost:
		if !t.caught[rk.site] {
			return nil
		}
		after := k.Condition.MinFor
		if room != nil && room.CarryTime > 0 {
			after = time.Duration(k.Condition.Share * float64(room.CarryTime))
		}
		opened, met = first.StartedAt.Add(after), !t.opt.Now().Before(first.StartedAt.Add(after))
	}
	if !met {
		return nil
	}
	return t.openIncident(ctx, k, rk, first.StartedAt, opened)
}

// limit is the "above" limit of k in room: the room's fact, else Above.
func (k *Class) limit(room *rules.Room) float64 {
	if room != nil && k.Condition.Fact != "" {
		if v, ok := room.Facts[k.Condition.Fact]; ok {
			return v
		}
	}
	if k.Condition.Above != nil {
		return *k.Condition.Above
	}
	return 1e308 // a fact-only class in a room without the fact never opens
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (t *Tracker) openIncident(ctx context.Context, k *Class, rk roomKey, started, opened time.Time) error {
	in := &Incident{
		ID: NewID(k.Name, rk.room, started), Site: rk.site, Room: rk.room, Class: k.Name,
		Title: maps.Clone(k.Title), RoomTitle: t.roomTitle(rk),
		StartedAt: started, OpenedAt: opened, UpdatedAt: t.opt.Now(),
	}
	hr := t.cfg.HospitalResponsible
	if hr == "" {
		hr = k.Responsible
	}
	in.Deadlines = []Deadline{
		{Kind: National, WithinMin: k.Deadline.Minutes(), Due: opened.Add(k.Deadline), Responsible: k.Responsible},
		{Kind: Hospital, WithinMin: k.HospitalDeadline.Minutes(), Due: opened.Add(k.HospitalDeadline), Responsible: hr},
	}
	ids := slices.Sorted(maps.Keys(t.active[rk]))
	for _, id := range ids {
		in.addAlarm(t.active[rk][id])
	}
	stored, created, err := t.store.create(ctx, in)
	if err != nil {
		return err
	}
	if !created {
		// Opened before (redelivery, restart): add what it lacks.
		if _, err := t.store.update(ctx, stored.Key(), func(s *Incident) (bool, error) {
			changed := false
			for _, id := range ids {
				changed = s.addAlarm(t.active[rk][id]) || changed
			}
			return changed, nil
		}); err != nil {
			return err
		}
	} else {
		t.log.Info("incident opened", "incident", in.ID, "site", rk.site, "room", rk.room, "class", k.Name,
			"national_due", in.Deadlines[0].Due, "hospital_due", in.Deadlines[1].Due)
	}
	if stored.Active() {
		t.open[openKey{rk.site, rk.room, k.Name}] = stored.Key()
	}
	if !clocksDone(stored) {
		t.tracked[stored.Key()] = true
	}
	return nil
}

func (t *Tracker) roomTitle(rk roomKey) map[string]string {
	if r := t.rooms[rk]; r != nil && len(r.Title) > 0 {
		return maps.Clone(r.Title)
	}
	return nil
}
