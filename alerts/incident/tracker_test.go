package incident

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/rules"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var shanghai = testutil.Shanghai

// t0 is when the test's first alarm fires: Tuesday 2026-12-01 02:15 local.
var t0 = time.Date(2026, 12, 1, 2, 15, 0, 0, shanghai)

const testConfig = `
hospital_responsible: 信息科科长
tick_interval: 1h
classes:
  - name: his-unreachable
    title: {zh: HIS 机房全部设备失联, en: HIS room unreachable}
    match: {rules: [device-unreachable], rooms: [his]}
    condition: {kind: room-unreachable}
    operator: cii
    responsible: 信息科值班长
  - name: mains-lost
    title: {zh: 市电中断超过后备时间一半, en: mains lost beyond half the carry time}
    match: {rules: [ups-on-battery]}
    condition: {kind: mains-lost, share: 0.5}
    operator: central
    responsible: 信息科值班长
  - name: over-temperature
    title: {zh: 机房温度超过关机温度, en: room above its shutdown temperature}
    match: {rules: [room-temperature-critical]}
    condition: {kind: above, value: temperature_c, fact: shutdown_temperature_c}
    responsible: 信息科值班长
`

var inventory = rules.Inventory{Sites: []rules.Site{{Name: "main", Rooms: []rules.Room{
	{Name: "room1", Title: map[string]string{"zh": "一号机房", "en": "Room 1"}, CarryTime: 30 * time.Minute,
		Facts: map[string]float64{"shutdown_temperature_c": 35}},
	{Name: "his", Title: map[string]string{"zh": "HIS机房", "en": "HIS room"}, Devices: []rules.DeviceInfo{
		{Device: collectors.Device{Site: "main", Room: "his", Name: "srv1"}},
		{Device: collectors.Device{Site: "main", Room: "his", Name: "srv2"}},
	}},
}}}}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	nc      *nats.Conn
	js      jetstream.JetStream
	state   jetstream.KeyValue
	monitor *alerts.Publisher // publishes the rule alarms, as the monitor does
	cfg     *Config
	store   *Store

	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fixture) set(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

func setup(t *testing.T, deliveries bool) *fixture {
	t.Helper()
	s := natstest.Start(t)
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	acfg := alerts.DefaultConfig()
	if err := alerts.EnsureStreams(ctx, js, "main", acfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, acfg.AckStreamConfig()); err != nil {
		t.Fatal(err)
	}
	if deliveries {
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: alerts.DeliveryStream,
			Subjects: []string{alerts.DeliverySubjectPrefix + ".>"}, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
	}
	state, err := js.KeyValue(ctx, acfg.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	daily, err := js.KeyValue(ctx, acfg.DailyBucket)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("roomwatch.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := EnsureBucket(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, nc: nc, js: js, state: state, cfg: cfg, now: t0,
		monitor: alerts.NewPublisher(js, state, alerts.PublisherOptions{}, nil),
		store:   NewStore(js, kv, daily, cfg)}
	return f
}

// tracker starts a tracker on the fixture's clock; durable overrides the
// consumer name (a fresh consumer replays the stream).
func (f *fixture) tracker(durable string) *Tracker {
	f.t.Helper()
	cfg := *f.cfg
	if durable != "" {
		cfg.Durable = durable
	}
	pub := alerts.NewPublisher(f.js, f.state, alerts.PublisherOptions{Now: f.clock}, nil)
	tr, err := NewTracker(&cfg, f.store, f.js, pub, Options{Sites: []string{"main"}, Inventory: inventory, State: f.state, Now: f.clock}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := tr.Start(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		if err := tr.Stop(context.Background()); err != nil {
			f.t.Error(err)
		}
	})
	return tr
}

// fire publishes a firing alarm of rule in room (device may be empty).
func (f *fixture) fire(rule, room, device string, sev alerts.Severity, at time.Time, values map[string]alerts.Reading) *alerts.Alarm {
	f.t.Helper()
	a := &alerts.Alarm{
		Fingerprint: rules.Fingerprint(rule, "main", room, device), Rule: rule, Severity: sev, State: alerts.Firing,
		Site: "main", Room: room, Device: device, Values: values,
		ActiveAt: at, StartedAt: at, UpdatedAt: at,
		Text: map[string]string{"zh": room + " " + device + " " + rule, "en": room + " " + device + " " + rule},
	}
	if _, err := f.monitor.Publish(f.ctx, a); err != nil {
		f.t.Fatal(err)
	}
	return a.Clone()
}

func (f *fixture) resolve(a *alerts.Alarm, at time.Time) {
	f.t.Helper()
	r := a.Clone()
	r.Resolve(at)
	if _, err := f.monitor.Publish(f.ctx, r); err != nil {
		f.t.Fatal(err)
	}
}

// eventually polls cond until it holds, failing t after 10 s
// (testutil.Eventually).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, func() (bool, string) { return cond(), "" })
}

// seen waits until the tracker has applied alarm a's latest message.
func (f *fixture) seen(tr *Tracker, a *alerts.Alarm, active bool) {
	f.t.Helper()
	eventually(f.t, "tracker saw "+a.ID, func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		_, ok := tr.active[roomKey{a.Site, a.Room}][a.ID]
		return ok == active
	})
}

func (f *fixture) incidents() []*Incident {
	f.t.Helper()
	all, err := f.store.List(f.ctx, "main")
	if err != nil {
		f.t.Fatal(err)
	}
	return all
}

func (f *fixture) waitIncidents(n int) []*Incident {
	f.t.Helper()
	var all []*Incident
	eventually(f.t, "incidents opened", func() bool { all = f.incidents(); return len(all) >= n })
	if len(all) != n {
		f.t.Fatalf("%d incidents, want %d", len(all), n)
	}
	return all
}

func (f *fixture) stateOf(rule string, in *Incident, kind string) *alerts.Alarm {
	f.t.Helper()
	e, err := f.state.Get(f.ctx, alerts.StateKey("main", rules.Fingerprint(rule, "main", in.Room, in.ID+"/"+kind)))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	a, err := alerts.Unmarshal(e.Value())
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func checkDeadlines(t *testing.T, in *Incident, opened time.Time, national, hospital time.Duration) {
	t.Helper()
	if !in.OpenedAt.Equal(opened) {
		t.Errorf("opened at %v, want %v", in.OpenedAt, opened)
	}
	if d := in.Deadline(National); d == nil || !d.Due.Equal(opened.Add(national)) || d.Responsible != "信息科值班长" {
		t.Errorf("national deadline %+v, want due %v", d, opened.Add(national))
	}
	if d := in.Deadline(Hospital); d == nil || !d.Due.Equal(opened.Add(hospital)) || d.Responsible != "信息科科长" {
		t.Errorf("hospital deadline %+v, want due %v", d, opened.Add(hospital))
	}
}

func TestClassesOpenWithTheirDeadlines(t *testing.T) {
	f := setup(t, true)
	tr := f.tracker("")

	// Above the room's shutdown temperature (fact 35 °C): 4 h (other).
	warm := f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 33, Unit: "°C"}})
	f.seen(tr, warm, true)
	if n := len(f.incidents()); n != 0 {
		t.Fatalf("33 °C below the shutdown temperature opened %d incidents", n)
	}
	hot := f.fire("room-temperature-critical", "room1", "th2", alerts.Critical, t0.Add(time.Minute), map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	all := f.waitIncidents(1)
	checkDeadlines(t, all[0], hot.StartedAt, 4*time.Hour, 24*time.Hour)
	if all[0].Class != "over-temperature" || !all[0].hasAlarm(hot.ID) || !all[0].hasAlarm(warm.ID) {
		t.Errorf("incident %+v", all[0])
	}

	// HIS room unreachable: both devices, 1 h (cii).
	srv1 := f.fire("device-unreachable", "his", "srv1", alerts.Major, t0, nil)
	f.seen(tr, srv1, true)
	if n := len(f.incidents()); n != 1 {
		t.Fatalf("one HIS device down opened an incident")
	}
	f.fire("device-unreachable", "his", "srv2", alerts.Major, t0.Add(2*time.Minute), nil)
	all = f.waitIncidents(2)
	his := all[slices.IndexFunc(all, func(in *Incident) bool { return in.Class == "his-unreachable" })]
	checkDeadlines(t, his, t0.Add(2*time.Minute), time.Hour, 24*time.Hour)

	// Mains lost for half the 30 min carry time: 2 h (central).
	ups := f.fire("ups-on-battery", "room1", "ups1", alerts.Critical, t0, map[string]alerts.Reading{"runtime_min": {Value: 40, Unit: "min"}})
	f.seen(tr, ups, true)
	f.set(t0.Add(14 * time.Minute))
	if err := tr.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.incidents()); n != 2 {
		t.Fatalf("mains lost for 14 of 30 min opened an incident")
	}
	f.set(t0.Add(15 * time.Minute))
	if err := tr.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	all = f.waitIncidents(3)
	mains := all[slices.IndexFunc(all, func(in *Incident) bool { return in.Class == "mains-lost" })]
	checkDeadlines(t, mains, t0.Add(15*time.Minute), 2*time.Hour, 24*time.Hour)
}

func TestRedeliveryAndRestartOpenOne(t *testing.T) {
	f := setup(t, true)
	tr := f.tracker("")
	hot := f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	first := f.waitIncidents(1)[0]

	// The same message again (a monitor restarted before its PubAck),
	// and the alarm handed to the tracker twice.
	f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	for range 2 {
		if err := tr.Observe(f.ctx, hot); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Stop(f.ctx); err != nil {
		t.Fatal(err)
	}

	// A restarted tracker, and one on a fresh consumer that replays the
	// stream.
	f.tracker("")
	tr3 := f.tracker("replay")
	f.seen(tr3, hot, true)
	all := f.waitIncidents(1)
	if all[0].ID != first.ID || len(all[0].Alarms) != 1 {
		t.Fatalf("after redelivery and restart: %+v", all[0])
	}
}

func TestReminderThenOverdueThenSigned(t *testing.T) {
	f := setup(t, true)
	tr := f.tracker("")
	f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	in := f.waitIncidents(1)[0]

	tick := func(at time.Time) {
		t.Helper()
		f.set(at)
		if err := tr.Tick(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick(t0.Add(3*time.Hour + 29*time.Minute))
	if a := f.stateOf(RuleDue, in, National); a != nil {
		t.Fatalf("reminder 31 min before the deadline: %+v", a)
	}
	tick(t0.Add(3*time.Hour + 30*time.Minute))
	due := f.stateOf(RuleDue, in, National)
	if due == nil || due.State != alerts.Firing || due.Severity != alerts.Major {
		t.Fatalf("no reminder 30 min before the deadline: %+v", due)
	}
	for _, want := range []string{"一号机房「机房温度超过关机温度」", "国家规定的 4 小时报告", "12月1日 06:15", "剩余 30 分钟", "信息科值班长", in.ID} {
		if !strings.Contains(due.Text["zh"], want) {
			t.Errorf("reminder %q lacks %q", due.Text["zh"], want)
		}
	}
	if want := "30 min left"; !strings.Contains(due.Text["en"], want) {
		t.Errorf("reminder %q lacks %q", due.Text["en"], want)
	}
	tick(t0.Add(3*time.Hour + 40*time.Minute)) // nothing new
	tick(t0.Add(4 * time.Hour))
	if a := f.stateOf(RuleDue, in, National); a == nil || a.State != alerts.Resolved {
		t.Errorf("reminder not resolved when overdue: %+v", a)
	}
	over := f.stateOf(RuleOverdue, in, National)
	if over == nil || over.State != alerts.Firing || !strings.Contains(over.Text["zh"], "已逾期") {
		t.Fatalf("no overdue alarm at the deadline: %+v", over)
	}
	if a := f.stateOf(RuleDue, in, Hospital); a != nil {
		t.Errorf("hospital reminder 20 h early: %+v", a)
	}

	// A restarted tracker raises nothing twice.
	st, _ := f.js.Stream(f.ctx, alerts.AlarmStreamName("ROOMWATCH_ALARMS", "main"))
	before, _ := st.Info(f.ctx)
	if err := tr.Stop(f.ctx); err != nil {
		t.Fatal(err)
	}
	tr = f.tracker("")
	tick(t0.Add(4*time.Hour + time.Minute))
	after, _ := st.Info(f.ctx)
	if after.State.Msgs != before.State.Msgs {
		t.Errorf("restart published %d alarm messages again", after.State.Msgs-before.State.Msgs)
	}

	// Signing the report stops the clocks.
	d, err := f.store.Draft(f.ctx, "main", in.ID, alerts.Config{}, f.clock())
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.store.Complete(f.ctx, d, 0, Fields{Cause: "空调停机"}, "张三", f.clock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Sign(f.ctx, "main", in.ID, r.N, Signature{By: "张三", At: f.clock()}); err != nil {
		t.Fatal(err)
	}
	tick(t0.Add(4*time.Hour + 5*time.Minute))
	if a := f.stateOf(RuleOverdue, in, National); a == nil || a.State != alerts.Resolved {
		t.Errorf("overdue alarm not resolved once signed: %+v", a)
	}
	tick(t0.Add(24 * time.Hour))
	if a := f.stateOf(RuleOverdue, in, Hospital); a != nil {
		t.Errorf("hospital overdue after signing: %+v", a)
	}
	tr.mu.Lock()
	n := len(tr.tracked)
	tr.mu.Unlock()
	if n != 0 {
		t.Errorf("%d incidents still tracked after signing", n)
	}
}
