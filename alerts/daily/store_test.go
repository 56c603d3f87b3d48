package daily

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/alerts/natstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func setupJS(t *testing.T) (*nats.Conn, jetstream.JetStream, jetstream.KeyValue) {
	t.Helper()
	nc, js := natstest.Connect(t, natstest.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := alerts.EnsureStreams(ctx, js, "main", alerts.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, alerts.DefaultConfig().DailyBucket)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, kv
}

func TestPersistAndContinueAfterRestart(t *testing.T) {
	nc, js, kv := setupJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := nc.SubscribeSync("roomwatch.daily.main.room1.20261125")
	if err != nil {
		t.Fatal(err)
	}
	door := func(open bool) collectors.Value { return flag("door_open", open) }
	temp := func(v float64) collectors.Value { return num("temperature_c", "°C", v) }

	// First run.
	r1 := newRec(t)
	if err := r1.Start(ctx, js, kv, at(0, 9, 0, 0)); err != nil {
		t.Fatal(err)
	}
	r1.Observe(set(di1, at(0, 9, 0, 0), door(false)))
	r1.Observe(set(di1, at(0, 9, 1, 0), door(true)))
	r1.Observe(set(di1, at(0, 9, 2, 0), door(false)))
	r1.Observe(set(th1, at(0, 9, 0, 0), temp(20)))
	r1.Observe(set(th1, at(0, 9, 1, 0), temp(30)))
	// An alarm from a day that was not loaded must not overwrite it.
	old := &alerts.Alarm{Schema: alerts.Schema, V: 1, ID: "x", Fingerprint: "fp", Rule: "r", Severity: alerts.Minor,
		State: alerts.Firing, Site: "main", Room: "room1", StartedAt: at(-3, 12, 0, 0), UpdatedAt: at(-3, 12, 0, 0)}
	r1.ObserveAlarm(old)
	if err := r1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("no record published: %v", err)
	}
	pub, err := Unmarshal(m.Data)
	if err != nil || pub.Devices["di1"].Door.Openings != 1 {
		t.Fatalf("published record %+v %v", pub, err)
	}
	if _, err := Load(ctx, kv, "main", "room1", "2026-11-22"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("record of a day before the floor written: %v", err)
	}

	// Second run, same day: the stored record is continued.
	r2 := newRec(t)
	if err := r2.Start(ctx, js, kv, at(0, 9, 30, 0)); err != nil {
		t.Fatal(err)
	}
	if rec, ok := r2.Snapshot("main", "room1", "2026-11-25"); !ok || rec.Devices["di1"].Door.Openings != 1 {
		t.Fatalf("record not loaded at start: %+v", rec)
	}
	r2.Observe(set(di1, at(0, 9, 3, 0), door(true))) // closed before the restart: an opening
	r2.Observe(set(di1, at(0, 9, 4, 0), door(false)))
	r2.Observe(set(th1, at(0, 9, 2, 0), temp(22))) // 30 °C held 09:01–09:02
	if err := r2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := Load(ctx, kv, "main", "room1", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	d := rec.Devices["di1"].Door
	if d.Openings != 2 || d.OpenS != 120 {
		t.Errorf("door after restart %+v, want 2 openings, 120 s open", d)
	}
	a := rec.Devices["th1"].Analog["temperature_c"]
	if a.Count != 3 || a.Min != 20 || a.Max != 30 || a.Mean != 24 || a.OutOfRangeS != 60 {
		t.Errorf("temperature after restart %+v", a)
	}
	if rec.Devices["di1"].Polls != 5 || rec.Summary.DoorOpenings != 2 {
		t.Errorf("polls %d summary %+v", rec.Devices["di1"].Polls, rec.Summary)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("second run's record not published: %v", err)
		}
		if p, err := Unmarshal(m.Data); err == nil && p.Devices["di1"].Door.Openings == 2 {
			break
		}
	}
}

// The flush loop writes records on its own, and without complaint when
// it runs under a context with no deadline, as the monitor starts it.
func TestFlushLoopWritesPeriodically(t *testing.T) {
	_, js, kv := setupJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{FlushInterval: time.Second}
	var logs strings.Builder
	var mu sync.Mutex
	r, err := NewRecorder(cfg, nil, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	defer stopLoop()
	if err := r.Start(loopCtx, js, kv, at(0, 9, 0, 0)); err != nil {
		t.Fatal(err)
	}
	r.Observe(set(th1, at(0, 9, 0, 0), num("humidity_pct", "%", 50)))
	var rec *Record
	testutil.Eventually(t, 20*time.Second, "the record written by the flush loop", func() (bool, string) {
		var err error
		rec, err = Load(ctx, kv, "main", "room1", "2026-11-25")
		return err == nil, fmt.Sprint(err)
	})
	if rec.Devices["th1"].Analog["humidity_pct"].Last != 50 {
		t.Errorf("stored %+v", rec.Devices["th1"])
	}
	// Stop returns once the loop has ended, so any complaint of its
	// flushes is in the log by then.
	if err := r.Stop(ctx); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "not written") {
		t.Errorf("the flush loop complained:\n%s", logs.String())
	}
}

func TestFollowAlarms(t *testing.T) {
	nc, js, _ := setupJS(t)
	r := newRec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc, err := r.FollowAlarms(ctx, js, alerts.AlarmStreamName(alerts.DefaultConfig().StreamPrefix, "main"))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	a := &alerts.Alarm{Schema: alerts.Schema, V: 1, Fingerprint: "fp", Rule: "smoke", Severity: alerts.Critical,
		State: alerts.Firing, Site: "main", Room: "room1", StartedAt: at(0, 3, 0, 0), UpdatedAt: at(0, 3, 0, 0)}
	a.ID = alerts.OccurrenceID(a.Fingerprint, a.StartedAt)
	data, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(a.Subject(), []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(a.Subject(), data); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the alarm in the day's record", func() (bool, string) {
		rec, ok := r.Snapshot("main", "room1", "2026-11-25")
		return ok && len(rec.Alarms) == 1 && rec.Alarms[0].Rule == "smoke", fmt.Sprint(ok)
	})
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRecordRoundsForPeople: durations are written in whole seconds and
// means to 0.01, whatever the precision they were counted with.
func TestRecordRoundsForPeople(t *testing.T) {
	r := newRecord("main", "r1", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), time.UTC)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	end := start.Add(54999478861 * time.Microsecond / 1000)
	r.Devices["ups1"] = &DeviceDay{Polls: 3, PollsOK: 2, CommsLostS: 10.000001,
		Mains:  &Mains{BatteryS: 54.99947886099999, Episodes: []Episode{{Start: start, End: &end, DurationS: 54.99947886099999}}},
		Analog: map[string]*Analog{"temperature_c": {Count: 3, Sum: 70, OutOfRangeS: 0.4}},
		Door:   &Door{OpenS: 12.5001}}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{`"mains_loss_s":55,`, `"battery_s":55,`, `"duration_s":55`, `"comms_lost_s":10,`,
		`"mean":23.33,`, `"out_of_range_s":0,`, `"open_s":13,`, `"availability":0.6667,`} {
		if !strings.Contains(s, want) {
			t.Errorf("record lacks %s:\n%s", want, s)
		}
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil || back.Devices["ups1"].Mains.BatteryS != 55 {
		t.Errorf("read back: %v, %+v", err, back.Devices["ups1"])
	}
}
