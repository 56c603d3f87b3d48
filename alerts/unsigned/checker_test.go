package unsigned

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var shanghai = testutil.Shanghai

// workingHours is the default rule set's calendar (2026 holidays).
func workingHours(t *testing.T) *rules.Calendar {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.When != nil && r.When.Calendar != nil && r.When.Calendar.Name == "working_hours" {
			return r.When.Calendar
		}
	}
	t.Fatal("default rules: no working_hours calendar")
	return nil
}

type fixture struct {
	js    jetstream.JetStream
	state jetstream.KeyValue
	pub   *alerts.Publisher
	ctx   context.Context

	mu     sync.Mutex
	now    time.Time
	signed map[string]bool // room/date
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fixture) set(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

func (f *fixture) sign(room, date string) { f.mu.Lock(); f.signed[room+"/"+date] = true; f.mu.Unlock() }

func (f *fixture) isSigned(_ context.Context, _, room string, day time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signed[room+"/"+day.Format(time.DateOnly)], nil
}

func setup(t *testing.T) *fixture {
	t.Helper()
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := alerts.EnsureStreams(ctx, js, "main", alerts.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{js: js, state: kv, ctx: ctx, signed: map[string]bool{},
		pub: alerts.NewPublisher(js, kv, alerts.PublisherOptions{}, nil)}
}

func (f *fixture) checker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	cfg.Defaults()
	errs := &yamlconf.Errors{}
	cfg.Validate(errs, "patrol_deadlines")
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	inv := rules.Inventory{Sites: []rules.Site{{Name: "main", Rooms: []rules.Room{
		{Name: "room1", Title: map[string]string{"zh": "一号机房", "en": "Room 1"}},
		{Name: "his", Title: map[string]string{"zh": "HIS机房", "en": "HIS room"}},
	}}}}
	c, err := New(&cfg, workingHours(t).Contains, f.isSigned, f.pub, f.state, Options{Inventory: inv, Now: f.clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) alarm(t *testing.T, room, date string) *alerts.Alarm {
	t.Helper()
	e, err := f.state.Get(f.ctx, alerts.StateKey("main", rules.Fingerprint(Rule, "main", room, date)))
	if err != nil {
		return nil
	}
	a, err := alerts.Unmarshal(e.Value())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) messages(t *testing.T) uint64 {
	t.Helper()
	st, err := f.js.Stream(f.ctx, alerts.AlarmStreamName("ROOMWATCH_ALARMS", "main"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestUnsignedPatrolFiresAtHourAndResolvesWhenSigned(t *testing.T) {
	f := setup(t)
	cfg := Config{Rooms: []Room{{Site: "main", Room: "room1", Hours: Hours{Workday: "10:00"}}}}
	c := f.checker(t, cfg)

	f.sign("room1", "2026-11-30") // yesterday's was signed
	// Tuesday 2026-12-01, a working day.
	f.set(time.Date(2026, 12, 1, 9, 59, 0, 0, shanghai))
	if err := c.Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	if a := f.alarm(t, "room1", "2026-12-01"); a != nil {
		t.Fatalf("alarm before the hour: %+v", a)
	}

	f.set(time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai))
	if err := c.Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	a := f.alarm(t, "room1", "2026-12-01")
	if a == nil || a.State != alerts.Firing || a.Severity != alerts.Major || a.Rule != Rule {
		t.Fatalf("alarm at the hour: %+v", a)
	}
	if want := "一号机房 12月1日 巡检未签字（应于 10:00 前完成）"; !strings.Contains(a.Text["zh"], want) {
		t.Errorf("zh text %q, want it to contain %q", a.Text["zh"], want)
	}
	if want := "Room 1 Dec 1 patrol not signed (due by 10:00)"; !strings.Contains(a.Text["en"], want) {
		t.Errorf("en text %q, want it to contain %q", a.Text["en"], want)
	}
	if n := f.messages(t); n != 1 {
		t.Fatalf("%d alarm messages, want 1", n)
	}

	// Checked again, and by a restarted checker: nothing new.
	f.set(time.Date(2026, 12, 1, 10, 5, 0, 0, shanghai))
	if err := c.Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.checker(t, cfg).Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.messages(t); n != 1 {
		t.Fatalf("%d alarm messages after a second check and a restart, want 1", n)
	}

	f.sign("room1", "2026-12-01")
	f.set(time.Date(2026, 12, 1, 10, 30, 0, 0, shanghai))
	if err := c.Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	a = f.alarm(t, "room1", "2026-12-01")
	if a == nil || a.State != alerts.Resolved || a.EndedAt == nil || !a.EndedAt.Equal(f.clock()) {
		t.Fatalf("after signing: %+v", a)
	}
	if err := c.Check(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.messages(t); n != 2 {
		t.Fatalf("%d alarm messages, want firing and resolved", n)
	}
}

func TestUnsignedPatrolHolidays(t *testing.T) {
	f := setup(t)
	c := f.checker(t, Config{
		Default: &Hours{Workday: "10:00"},                                                              // room1: no patrol on holidays
		Rooms:   []Room{{Site: "main", Room: "his", Hours: Hours{Workday: "09:00", Holiday: "11:00"}}}, // HIS: every day
	})
	for _, tc := range []struct {
		name       string
		at         time.Time
		room1, his bool // alarm expected
	}{
		{"national day holiday, before the HIS holiday hour", time.Date(2026, 10, 1, 10, 30, 0, 0, shanghai), false, false},
		{"national day holiday, after it", time.Date(2026, 10, 1, 11, 0, 0, 0, shanghai), false, true},
		{"Saturday", time.Date(2026, 12, 5, 11, 0, 0, 0, shanghai), false, true},
		{"make-up working Saturday", time.Date(2026, 10, 10, 10, 0, 0, 0, shanghai), true, true},
	} {
		f.set(tc.at)
		if err := c.Check(f.ctx); err != nil {
			t.Fatal(err)
		}
		date := tc.at.Format(time.DateOnly)
		if got := f.alarm(t, "room1", date) != nil; got != tc.room1 {
			t.Errorf("%s: room1 alarm %v, want %v", tc.name, got, tc.room1)
		}
		if got := f.alarm(t, "his", date) != nil; got != tc.his {
			t.Errorf("%s: his alarm %v, want %v", tc.name, got, tc.his)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	data := []byte("timezone: Mars/Base\nrooms:\n  - site: main\n    room: room1\n    workday: \"25:00\"\n")
	var cfg Config
	yf, err := yamlconf.Decode("roomwatch.yaml", data, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Defaults()
	errs := &yamlconf.Errors{File: yf}
	cfg.Validate(errs, "")
	got := errs.Err()
	if got == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"roomwatch.yaml:1: timezone:", "roomwatch.yaml:5: rooms[0].workday: \"25:00\""} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("error %q lacks %q", got, want)
		}
	}
}
