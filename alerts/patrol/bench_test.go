package patrol

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/alerts/patrol/users"
	"github.com/roomwatch/roomwatch/collectors"
)

// fullDay returns room's record of a full day: a UPS, a temperature and
// humidity sensor and a DI module polled every 10 s from midnight to
// midnight, with a mains cut and a night door opening.
func fullDay(b testing.TB, room string) *daily.Record {
	rec, err := daily.NewRecorder(daily.Config{}, func(t time.Time) bool { return t.Hour() >= 8 && t.Hour() < 18 }, nil)
	if err != nil {
		b.Fatal(err)
	}
	dev := func(name, class string) collectors.Device {
		return collectors.Device{Site: "main", Room: room, Name: name, Class: class}
	}
	ups, th, di := dev("ups1", "ups"), dev("th1", "env"), dev("di1", "di")
	for now := scenarioDay; now.Before(scenarioDay.AddDate(0, 0, 1)); now = now.Add(10 * time.Second) {
		onBatt := !now.Before(mainsCut) && now.Before(mainsBack)
		door := !now.Before(doorOpened) && now.Before(doorClosed)
		for _, s := range []collectors.SampleSet{
			{Device: ups, Time: now, Values: []collectors.Value{flagv("on_battery", onBatt), numv("runtime_min", "min", 70), numv("charge_pct", "%", 98), numv("load_pct", "%", 35), numv("battery_temp_c", "°C", 24)}},
			{Device: th, Time: now, Values: []collectors.Value{numv("temperature_c", "°C", 22+float64(now.Hour())/6), numv("humidity_pct", "%", 45)}},
			{Device: di, Time: now, Values: []collectors.Value{flagv("door_open", door), flagv("spd_fault", false), flagv("water_leak", false), flagv("smoke", false)}},
		} {
			rec.Observe(s)
		}
	}
	r, ok := rec.Snapshot("main", room, scenarioDay.Format(time.DateOnly))
	if !ok {
		b.Fatal("no record")
	}
	for i := range 6 {
		at := scenarioDay.Add(time.Duration(i+1) * 3 * time.Hour)
		r.Alarms = append(r.Alarms, daily.AlarmEntry{ID: alerts.OccurrenceID(fmt.Sprint("fp", i), at), Fingerprint: fmt.Sprint("fp", i),
			Rule: "room-temperature-high", Severity: alerts.Major, State: alerts.Resolved, Device: "th1", StartedAt: at,
			Text: map[string]string{"zh": "一号机房 温度过高 28.4 °C", "en": "Room 1 temperature high 28.4 °C"}})
	}
	return r
}

// benchServer is a screen with n rooms, each with a full day's record in
// the daily bucket, and a logged-in operator's cookie.
func benchServer(b *testing.B, n int) (*Server, *http.Cookie) {
	users.Cost = bcrypt.MinCost
	s := natstest.Start(b)
	nc, js := natstest.Connect(b, s)
	ctx := context.Background()
	acfg := alerts.DefaultConfig()
	if err := alerts.EnsureStreams(ctx, js, "main", acfg); err != nil {
		b.Fatal(err)
	}
	kv, _ := js.KeyValue(ctx, acfg.DailyBucket)
	var rooms []Room
	for i := range n {
		name := fmt.Sprintf("room%02d", i+1)
		rooms = append(rooms, Room{Site: "main", Name: name, Title: fmt.Sprintf("%d 号机房", i+1), CarryTime: time.Hour, Loc: shanghai})
		putRecord(b, kv, fullDay(b, name))
	}
	dir := b.TempDir()
	cfg := Config{Listen: "127.0.0.1:0"}
	cfg.Defaults(dir)
	f := &users.File{}
	_ = f.Set("oper1", "张三", users.Operator, testPassword)
	_ = f.Save(cfg.UsersFile)
	srv, err := New(Options{Config: cfg, Rooms: rooms, NC: nc, Alerts: acfg, Now: func() time.Time { return scenarioNow }})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Stop(context.Background()) })
	token, err := srv.sessions.create(ctx, Session{User: "oper1", Created: scenarioNow})
	if err != nil {
		b.Fatal(err)
	}
	return srv, &http.Cookie{Name: sessionCookie, Value: token}
}

func putRecord(b testing.TB, kv jetstream.KeyValue, r *daily.Record) {
	data, err := r.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), alerts.DailyKey(r.Site, r.Room, r.Date), data); err != nil {
		b.Fatal(err)
	}
}

// benchGet serves path in a loop; each iteration first runs fresh (nil:
// nothing), e.g. to defeat the overview's one-second cache.
func benchGet(b *testing.B, h http.Handler, c *http.Cookie, path string, fresh func()) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		if fresh != nil {
			fresh()
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}

// BenchmarkRecordPage: a room's full day record, read from NATS and
// rendered (go test -run - -bench RecordPage ./alerts/patrol).
func BenchmarkRecordPage(b *testing.B) {
	srv, c := benchServer(b, 1)
	benchGet(b, srv.Handler(), c, "/room/main/room01/"+scenarioDay.Format(time.DateOnly), nil)
}

// BenchmarkOverview50: the overview of 50 rooms with a full day each,
// read afresh from NATS every time (as after every change).
func BenchmarkOverview50(b *testing.B) {
	srv, c := benchServer(b, 50)
	benchGet(b, srv.Handler(), c, "/", srv.hub.notify)
}

// BenchmarkBuildRecord: the checklist alone (verdicts, evidence, charts)
// from a decoded record, without NATS or the template.
func BenchmarkBuildRecord(b *testing.B) {
	r := fullDay(b, "room01")
	room := &Room{Site: "main", Name: "room01", CarryTime: time.Hour, Loc: shanghai}
	b.ReportAllocs()
	for b.Loop() {
		buildRecord(r, room, nil, LangZH, scenarioNow)
	}
}
