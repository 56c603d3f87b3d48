package daily

import (
	"context"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
)

// TestChangeKinds: what a person on duty acts on marks its record for the
// next flush; statistics alone (every other sample) wait.
func TestChangeKinds(t *testing.T) {
	temp := func(v float64) collectors.Value { return num("temperature_c", "°C", v) }
	ups := func(onBattery bool, load float64, smoke bool) []collectors.Value {
		return []collectors.Value{flag("on_battery", onBattery), num("load_pct", "%", load), flag("smoke", smoke)}
	}
	steps := []struct {
		name string
		s    collectors.SampleSet
		want change
	}{
		{"first sample of a device", set(th1, at(0, 9, 0, 0), temp(22)), eventChange},
		{"a reading within range", set(th1, at(0, 9, 0, 10), temp(23)), statsChange},
		{"a new maximum within range", set(th1, at(0, 9, 0, 20), temp(26)), statsChange},
		{"out of range", set(th1, at(0, 9, 0, 30), temp(28)), eventChange},
		{"still out of range", set(th1, at(0, 9, 0, 40), temp(29)), statsChange},
		{"back in range", set(th1, at(0, 9, 0, 50), temp(25)), eventChange},
		{"a sensor fault", set(th1, at(0, 9, 1, 0), fault(temp(0))), eventChange},
		{"the fault goes on", set(th1, at(0, 9, 1, 10), fault(temp(0))), statsChange},
		{"the fault ends", set(th1, at(0, 9, 1, 20), temp(24)), eventChange},
		{"comms lost", failed(th1, at(0, 9, 1, 30)), eventChange},
		{"still lost", failed(th1, at(0, 9, 1, 40)), statsChange},
		{"comms restored", set(th1, at(0, 9, 1, 50), temp(24)), eventChange},
		{"a new value", set(th1, at(0, 9, 2, 0), temp(24), num("humidity_pct", "%", 50)), eventChange},
		{"same values again", set(th1, at(0, 9, 2, 10), temp(24), num("humidity_pct", "%", 51)), statsChange},

		{"door first seen closed", set(di1, at(0, 9, 0, 0), flag("door_open", false)), eventChange},
		{"door still closed", set(di1, at(0, 9, 0, 10), flag("door_open", false)), statsChange},
		{"door opens", set(di1, at(0, 9, 0, 20), flag("door_open", true)), eventChange},
		{"door still open", set(di1, at(0, 9, 0, 30), flag("door_open", true)), statsChange},
		{"door closes", set(di1, at(0, 9, 0, 40), flag("door_open", false)), eventChange},

		{"UPS first seen", set(ups1, at(0, 9, 0, 0), ups(false, 35, false)...), eventChange},
		{"UPS load moves", set(ups1, at(0, 9, 0, 10), ups(false, 36, false)...), statsChange},
		{"on battery", set(ups1, at(0, 9, 0, 20), ups(true, 36, false)...), eventChange},
		{"still on battery", set(ups1, at(0, 9, 0, 30), ups(true, 37, false)...), statsChange},
		{"mains back", set(ups1, at(0, 9, 0, 40), ups(false, 37, false)...), eventChange},
		{"smoke", set(ups1, at(0, 9, 0, 50), ups(false, 37, true)...), eventChange},
		{"still smoke", set(ups1, at(0, 9, 1, 0), ups(false, 37, true)...), statsChange},
		{"smoke clears", set(ups1, at(0, 9, 1, 10), ups(false, 37, false)...), eventChange},
	}
	r := newRec(t)
	for _, st := range steps {
		r.Observe(st.s)
		rec := r.records[recKey{"main", "room1", "2026-11-25"}]
		if rec.pending != st.want {
			t.Errorf("%s: pending %d, want %d", st.name, rec.pending, st.want)
		}
		rec.pending = clean
	}

	a := &alerts.Alarm{Schema: alerts.Schema, V: 1, ID: "a1", Fingerprint: "fp", Rule: "smoke", Severity: alerts.Critical,
		State: alerts.Firing, Site: "main", Room: "room1", StartedAt: at(0, 9, 1, 0), UpdatedAt: at(0, 9, 1, 0)}
	r.ObserveAlarm(a)
	rec := r.records[recKey{"main", "room1", "2026-11-25"}]
	if rec.pending != eventChange {
		t.Errorf("alarm: pending %d, want an event", rec.pending)
	}
	rec.pending = clean
	r.ObserveDelivery(&alerts.Delivery{ID: "d1", Site: "main", Room: "room1", AlarmIDs: []string{"a1"},
		Person: "李四", Channel: "sms", Result: "delivered", At: at(0, 9, 1, 5)})
	if rec.pending != eventChange {
		t.Errorf("delivery: pending %d, want an event", rec.pending)
	}

	// The first sample of a new day makes a new record: an event.
	r.Observe(set(th1, at(1, 0, 0, 5), temp(24)))
	if rec := r.records[recKey{"main", "room1", "2026-11-26"}]; rec == nil || rec.pending != eventChange {
		t.Errorf("new day's record: %+v", rec)
	}
}

// TestFlushWritesStatsEveryStatsInterval: through a real bucket, a record
// whose only changes are statistics is written no more often than the
// stats interval, an event goes out at the next flush carrying the
// statistics with it, and Stop writes everything.
func TestFlushWritesStatsEveryStatsInterval(t *testing.T) {
	_, js, kv := setupJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Long intervals: the loop never runs during the test; the test
	// calls flush with its own clock.
	cfg := Config{FlushInterval: time.Hour, StatsInterval: 4 * time.Hour}
	r, err := NewRecorder(cfg, workHours, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, js, kv, at(0, 9, 0, 0)); err != nil {
		t.Fatal(err)
	}
	temp := func(v float64) collectors.Value { return num("temperature_c", "°C", v) }
	door := func(open bool) collectors.Value { return flag("door_open", open) }
	key := alerts.DailyKey("main", "room1", "2026-11-25")
	var rev uint64
	// flushAt flushes at clock, then reports whether the record was
	// written and the temperature's last value stored.
	flushAt := func(clock time.Time) (bool, float64) {
		t.Helper()
		if err := r.flush(ctx, clock, false); err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Unmarshal(e.Value())
		if err != nil {
			t.Fatal(err)
		}
		written := e.Revision() != rev
		rev = e.Revision()
		return written, rec.Devices["th1"].Analog["temperature_c"].Last
	}
	clock := time.Now()
	tick := func() time.Time { clock = clock.Add(cfg.FlushInterval); return clock }

	r.Observe(set(th1, at(0, 9, 0, 0), temp(22)))
	r.Observe(set(di1, at(0, 9, 0, 0), door(false)))
	if w, last := flushAt(tick()); !w || last != 22 {
		t.Fatalf("new record: written %v, last %g", w, last)
	}
	written := clock // the record's last write
	for i := range 3 {
		r.Observe(set(th1, at(0, 9, 0, 10*(i+1)), temp(float64(23+i))))
		if w, _ := flushAt(tick()); w {
			t.Fatalf("statistics written %v after the last write, before the stats interval", clock.Sub(written))
		}
	}
	r.Observe(set(di1, at(0, 9, 1, 0), door(true)))
	if w, last := flushAt(tick()); !w || last != 25 {
		t.Fatalf("door opening: written %v, last %g; want it at the next flush with the latest temperature", w, last)
	}
	written = clock
	r.Observe(set(th1, at(0, 9, 1, 10), temp(26)))
	for clock.Sub(written) < cfg.StatsInterval-cfg.FlushInterval {
		if w, _ := flushAt(tick()); w {
			t.Fatalf("statistics written %v after the last write", clock.Sub(written))
		}
	}
	if w, last := flushAt(tick()); !w || last != 26 {
		t.Fatalf("statistics a stats interval after the last write: written %v, last %g", w, last)
	}
	if w, _ := flushAt(tick()); w {
		t.Fatal("an unchanged record written again")
	}
	r.Observe(set(th1, at(0, 9, 1, 20), temp(24)))
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, key); err != nil || e.Revision() == rev {
		t.Fatalf("Stop did not write the statistics: %v", err)
	}
}
