package patrol

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/alerts/patrol/users"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/rules"
)

var shanghai = testutil.Shanghai

// scenarioDay is the simulated day: a Wednesday.
var scenarioDay = time.Date(2026, 11, 25, 0, 0, 0, 0, shanghai)

// Times of the scenario, local.
var (
	mainsCut     = scenarioDay.Add(2*time.Hour + 10*time.Minute)
	mainsBack    = scenarioDay.Add(2*time.Hour + 35*time.Minute)
	doorOpened   = scenarioDay.Add(3 * time.Hour)
	doorClosed   = scenarioDay.Add(3*time.Hour + 4*time.Minute)
	scenarioEnd  = scenarioDay.Add(9 * time.Hour)
	scenarioNow  = scenarioDay.Add(9*time.Hour + 30*time.Minute)
	testPassword = "patrol-test-pw"
)

// env is one test's world: NATS with the monitor's streams and a day of
// records, and a running patrol screen.
type env struct {
	t     testing.TB
	nc    *nats.Conn
	js    jetstream.JetStream
	srv   *Server
	url   string
	dir   string
	clock *clock
}

// clock is the screen's clock, moved by tests.
type clock struct{ ch chan time.Time }

func newClock(t time.Time) *clock {
	c := &clock{ch: make(chan time.Time, 1)}
	c.ch <- t
	return c
}

func (c *clock) Now() time.Time  { t := <-c.ch; c.ch <- t; return t }
func (c *clock) Set(t time.Time) { <-c.ch; c.ch <- t }

func testRooms() []Room {
	return []Room{
		{Site: "main", Name: "room1", Title: "一号机房", TitleEN: "Room 1", CarryTime: time.Hour, Loc: shanghai},
		{Site: "main", Name: "room2", Title: "网络间", TitleEN: "Switch room", CarryTime: 30 * time.Minute, Loc: shanghai},
	}
}

// newEnv starts NATS, plays the scenario into the monitor's buckets and
// starts the screen with users viewer1, oper1 and admin1.
func newEnv(t testing.TB, edit ...func(*Options)) *env {
	t.Helper()
	users.Cost = bcrypt.MinCost
	s := natstest.Start(t)
	nc, js := natstest.Connect(t, s)
	e := &env{t: t, nc: nc, js: js, dir: t.TempDir(), clock: newClock(scenarioNow)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acfg := alerts.DefaultConfig()
	if err := alerts.EnsureStreams(ctx, js, "main", acfg); err != nil {
		t.Fatal(err)
	}
	playScenario(t, ctx, nc, js, acfg)

	f := &users.File{}
	for _, u := range []struct {
		name, title string
		role        users.Role
	}{{"viewer1", "王五", users.Viewer}, {"oper1", "张三", users.Operator}, {"admin1", "李四", users.Admin}} {
		if err := f.Set(u.name, u.title, u.role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Listen: "127.0.0.1:0"}
	cfg.Defaults(e.dir)
	if err := f.Save(cfg.UsersFile); err != nil {
		t.Fatal(err)
	}
	o := Options{Config: cfg, Rooms: testRooms(), NC: nc, Alerts: acfg, Now: e.clock.Now}
	for _, f := range edit {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Stop(ctx)
	})
	e.srv, e.url = srv, srv.URL()
	return e
}

func numv(name, unit string, v float64) collectors.Value {
	return collectors.Value{Name: name, Unit: unit, Kind: collectors.Number, Num: v}
}

func flagv(name string, on bool) collectors.Value {
	v := collectors.Value{Name: name, Kind: collectors.Bool}
	if on {
		v.Num = 1
	}
	return v
}

// playScenario runs the real rules engine, alarm publisher and daily
// recorder over a simulated night in room1: the mains is cut at 02:10
// and restored at 02:35, the door is opened at 03:00 for four minutes.
// Room2 has a healthy UPS.
func playScenario(t testing.TB, ctx context.Context, nc *nats.Conn, js jetstream.JetStream, acfg alerts.Config) {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	working := func(time.Time) bool { return true }
	for _, r := range rs {
		if r.When != nil && r.When.Calendar != nil {
			working = r.When.Calendar.Contains
		}
	}
	dev := func(room, name, profile, class string) collectors.Device {
		return collectors.Device{Site: "main", Room: room, Name: name, Profile: profile, Class: class}
	}
	ups1, th1, di1 := dev("room1", "ups1", "rfc1628-ups", "ups"), dev("room1", "th1", "modbus-th", "env"), dev("room1", "di1", "modbus-di", "di")
	ups2 := dev("room2", "ups2", "apc-ups", "ups")
	inv := rules.Inventory{Sites: []rules.Site{{Name: "main", Title: map[string]string{"zh": "总院", "en": "Main"}, Rooms: []rules.Room{
		{Name: "room1", Title: map[string]string{"zh": "一号机房", "en": "Room 1"}, CarryTime: time.Hour, Devices: []rules.DeviceInfo{
			{Device: ups1, Interval: time.Minute}, {Device: th1, Interval: time.Minute}, {Device: di1, Interval: time.Minute}}},
		{Name: "room2", Title: map[string]string{"zh": "网络间", "en": "Switch room"}, CarryTime: 30 * time.Minute, Devices: []rules.DeviceInfo{
			{Device: ups2, Interval: time.Minute}}},
	}}}}
	skv, err := js.KeyValue(ctx, acfg.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	dkv, err := js.KeyValue(ctx, acfg.DailyBucket)
	if err != nil {
		t.Fatal(err)
	}
	pub := alerts.NewPublisher(js, skv, alerts.PublisherOptions{}, nil)
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	pub.Start(pctx)
	eng, err := rules.NewEngine(rs, inv, pub.Handle)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := daily.NewRecorder(daily.Config{FlushInterval: time.Hour}, working, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Start(pctx, js, dkv, scenarioDay); err != nil {
		t.Fatal(err)
	}
	follow, err := rec.FollowAlarms(pctx, js, alerts.AlarmStreamName(acfg.StreamPrefix, "main"))
	if err != nil {
		t.Fatal(err)
	}
	defer follow.Stop()

	for now := scenarioDay; !now.After(scenarioEnd); now = now.Add(time.Minute) {
		onBatt := !now.Before(mainsCut) && now.Before(mainsBack)
		runtime, charge := 75.0, 100.0
		if onBatt {
			m := now.Sub(mainsCut).Minutes()
			runtime, charge = 75-2*m, 100-2.5*m
		} else if now.After(mainsBack) {
			m := now.Sub(mainsBack).Minutes()
			charge = min(100, 37.5+m)
			runtime = min(75, 25+m)
		}
		door := !now.Before(doorOpened) && now.Before(doorClosed)
		temp := 22 + 2*float64(now.Hour())/9
		sets := []collectors.SampleSet{
			{Device: ups1, Time: now, Values: []collectors.Value{flagv("on_battery", onBatt), numv("runtime_min", "min", runtime), numv("charge_pct", "%", charge), numv("load_pct", "%", 35), numv("battery_temp_c", "°C", 24)}},
			{Device: th1, Time: now, Values: []collectors.Value{numv("temperature_c", "°C", temp), numv("humidity_pct", "%", 45)}},
			{Device: di1, Time: now, Values: []collectors.Value{flagv("door_open", door), flagv("spd_fault", false), flagv("water_leak", false), flagv("smoke", false)}},
			{Device: ups2, Time: now, Values: []collectors.Value{flagv("on_battery", false), numv("runtime_min", "min", 90), numv("charge_pct", "%", 100), numv("load_pct", "%", 20), numv("battery_temp_c", "°C", 23)}},
		}
		for _, s := range sets {
			eng.Eval(now, s)
			rec.Observe(s)
		}
	}
	if err := pub.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The recorder hears the alarms over NATS: wait until the record
	// holds the mains and door alarms.
	testutil.Eventually(t, 15*time.Second, "the daily record's alarms", func() (bool, string) {
		if err := rec.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := daily.Load(ctx, dkv, "main", "room1", scenarioDay.Format(time.DateOnly))
		return err == nil && len(r.Alarms) >= 2, fmt.Sprintf("%+v", r)
	})
	if err := rec.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The notifier told the person on duty of the first alarm.
	r, _ := daily.Load(ctx, dkv, "main", "room1", scenarioDay.Format(time.DateOnly))
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: alerts.DeliveryStream, Subjects: []string{alerts.DeliverySubjectPrefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	d := alerts.Delivery{Schema: alerts.DeliverySchema, ID: "n1", AlarmIDs: []string{r.Alarms[0].ID}, Site: "main", Room: "room1",
		Kind: "firing", Person: "张三", Address: "13800000000", Channel: "sms", Result: alerts.DeliverySent, Attempt: 1, At: r.Alarms[0].StartedAt.Add(2 * time.Second)}
	data, _ := json.Marshal(d)
	if _, err := js.Publish(ctx, alerts.DeliverySubject("main", "room1"), data); err != nil {
		t.Fatal(err)
	}
}

// artifacts is where screenshots go: $ROOMWATCH_ARTIFACTS or the test's
// temp dir.
func artifacts(t testing.TB) string {
	if d := os.Getenv("ROOMWATCH_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
