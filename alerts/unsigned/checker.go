package unsigned

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/rules"
)

// Rule is the rule name of the alarm.
const Rule = "patrol-unsigned"

// SignedFunc tells whether the patrol record of site's room for the local
// day starting at day (midnight in the configured zone) is signed. The
// patrol screen's storage implements it.
type SignedFunc func(ctx context.Context, site, room string, day time.Time) (bool, error)

// Options are what a Checker needs beyond its configuration.
type Options struct {
	// Inventory gives the rooms the Default hours apply to, and titles.
	Inventory rules.Inventory
	// Now is the clock (default time.Now).
	Now func() time.Time
}

type room struct {
	site, name string
	title      map[string]string
	work, hol  int
	hasW, hasH bool
}

// Checker raises and resolves patrol-unsigned alarms.
type Checker struct {
	cfg     *Config
	working func(time.Time) bool
	signed  SignedFunc
	pub     *alerts.Publisher
	state   jetstream.KeyValue
	now     func() time.Time
	rooms   []room
	log     *slog.Logger

	mu       sync.Mutex
	workdays map[string]bool // date → working day (cache)

	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Checker. cfg must be defaulted and valid. working tells
// working hours: the Contains method of the rules' calendar
// (*rules.Calendar, e.g. working_hours), as daily.NewRecorder takes it;
// a day is a working day when some minute of it is within working hours,
// and nil makes every day one. state is the alarm state bucket pub
// writes.
func New(cfg *Config, working func(time.Time) bool, signed SignedFunc, pub *alerts.Publisher, state jetstream.KeyValue, opt Options, log *slog.Logger) (*Checker, error) {
	if signed == nil || pub == nil || state == nil {
		return nil, errors.New("unsigned patrol checker: signed, publisher and state bucket are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Checker{cfg: cfg, working: working, signed: signed, pub: pub, state: state, now: opt.Now,
		log: log.With("component", "patrol-unsigned"), workdays: map[string]bool{}}
	listed := map[[2]string]bool{}
	titles := map[[2]string]map[string]string{}
	for _, s := range opt.Inventory.Sites {
		for _, r := range s.Rooms {
			titles[[2]string{s.Name, r.Name}] = r.Title
		}
	}
	add := func(site, name string, h Hours) error {
		r := room{site: site, name: name, title: titles[[2]string{site, name}]}
		var err1, err2 error
		r.work, r.hasW, err1 = parseHour(h.Workday)
		r.hol, r.hasH, err2 = parseHour(h.Holiday)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("unsigned patrol checker: room %s/%s: %w", site, name, err)
		}
		c.rooms = append(c.rooms, r)
		return nil
	}
	for _, r := range cfg.Rooms {
		listed[[2]string{r.Site, r.Room}] = true
		if err := add(r.Site, r.Room, r.Hours); err != nil {
			return nil, err
		}
	}
	if cfg.Default != nil {
		for _, s := range opt.Inventory.Sites {
			for _, r := range s.Rooms {
				if !listed[[2]string{s.Name, r.Name}] {
					if err := add(s.Name, r.Name, *cfg.Default); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return c, nil
}

// Start checks at once and then every Interval until Stop.
func (c *Checker) Start(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		for {
			if err := c.Check(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("patrol signatures not checked", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop stops the loop and waits for it.
func (c *Checker) Stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// Check raises the alarm of every patrol unsigned past its hour and
// resolves those that got signed, at the checker's now.
func (c *Checker) Check(ctx context.Context) error {
	now := c.now()
	loc := c.cfg.location()
	y, m, d := now.In(loc).Date()
	var errs []error
	for _, r := range c.rooms {
		for back := 0; back < c.cfg.Lookback; back++ {
			day := time.Date(y, m, d-back, 0, 0, 0, 0, loc)
			if err := c.checkDay(ctx, r, day, now); err != nil {
				errs = append(errs, fmt.Errorf("room %s/%s %s: %w", r.site, r.name, day.Format(time.DateOnly), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Due returns the hour by which room's patrol of day must be signed, and
// false when none is required that day.
func (c *Checker) due(r room, day time.Time) (time.Time, bool) {
	mins, ok := r.hol, r.hasH
	if c.workday(day) {
		mins, ok = r.work, r.hasW
	}
	if !ok {
		return time.Time{}, false
	}
	return day.Add(time.Duration(mins) * time.Minute), true
}

// workday reports whether day (local midnight) is a working day of the
// calendar: some minute of it is within working hours.
func (c *Checker) workday(day time.Time) bool {
	if c.working == nil {
		return true
	}
	date := day.Format(time.DateOnly)
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.workdays[date]; ok {
		return w
	}
	end := day.AddDate(0, 0, 1)
	w := false
	for t := day; t.Before(end); t = t.Add(time.Minute) {
		if c.working(t) {
			w = true
			break
		}
	}
	if len(c.workdays) > 4*c.cfg.Lookback {
		clear(c.workdays)
	}
	c.workdays[date] = w
	return w
}

func (c *Checker) checkDay(ctx context.Context, r room, day, now time.Time) error {
	due, ok := c.due(r, day)
	if !ok || now.Before(due) {
		return nil
	}
	date := day.Format(time.DateOnly)
	fp := rules.Fingerprint(Rule, r.site, r.name, date)
	stored, err := c.stored(ctx, r.site, fp)
	if err != nil {
		return err
	}
	signed, err := c.signed(ctx, r.site, r.name, day)
	if err != nil {
		return fmt.Errorf("signed: %w", err)
	}
	switch {
	case signed && stored != nil && stored.Active():
		a := stored.Clone()
		a.Resolve(now)
		a.Text = c.text(r, day, due, true)
		_, err = c.pub.Publish(ctx, a)
	case !signed && stored == nil && now.Sub(due) < 24*time.Hour:
		_, err = c.pub.Publish(ctx, c.alarm(r, day, due, fp, now))
	}
	return err
}

func (c *Checker) stored(ctx context.Context, site, fp string) (*alerts.Alarm, error) {
	e, err := c.state.Get(ctx, alerts.StateKey(site, fp))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alarm state: %w", err)
	}
	return alerts.Unmarshal(e.Value())
}

// alarm is the firing patrol-unsigned alarm of r's day.
func (c *Checker) alarm(r room, day, due time.Time, fp string, now time.Time) *alerts.Alarm {
	date := day.Format(time.DateOnly)
	return &alerts.Alarm{
		Schema: alerts.Schema, V: alerts.V,
		Fingerprint: fp, Rule: Rule, Severity: alerts.Major, State: alerts.Firing,
		Site: r.site, Room: r.name,
		Labels:   map[string]string{rules.LabelSite: r.site, rules.LabelRoom: r.name, rules.LabelRule: Rule, "date": date},
		ActiveAt: due, StartedAt: due, UpdatedAt: now,
		Text: c.text(r, day, due, false),
	}
}

func (c *Checker) text(r room, day, due time.Time, resolved bool) map[string]string {
	zhRoom, enRoom := pick(r.title, "zh", r.name), pick(r.title, "en", r.name)
	zhDay := fmt.Sprintf("%d月%d日", day.Month(), day.Day())
	enDay := day.Format("Jan 2")
	hm := due.Format("15:04")
	if resolved {
		return map[string]string{
			"zh": fmt.Sprintf("【恢复】%s %s 巡检已签字", zhRoom, zhDay),
			"en": fmt.Sprintf("[RESOLVED] %s %s patrol signed", enRoom, enDay),
		}
	}
	return map[string]string{
		"zh": fmt.Sprintf("【重要】%s %s 巡检未签字（应于 %s 前完成）", zhRoom, zhDay, hm),
		"en": fmt.Sprintf("[MAJOR] %s %s patrol not signed (due by %s)", enRoom, enDay, hm),
	}
}

func pick(m map[string]string, lang, fallback string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return fallback
}
