package daily

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/collectors"
)

// BenchmarkObserve is the cost of folding one UPS sample set of 12 values
// into the daily record (the recorder sits on the collectors' path).
//
//	go test -run '^$' -bench BenchmarkObserve ./alerts/daily/
func BenchmarkObserve(b *testing.B) {
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	vals := []collectors.Value{
		flag("on_battery", false), num("runtime_min", "min", 400), num("charge_pct", "%", 100),
		num("battery_voltage_v", "V", 54), num("battery_temp_c", "°C", 25), num("input_voltage_v", "V", 220),
		num("output_voltage_v", "V", 220), num("load_pct", "%", 40), num("temperature_c", "°C", 23),
		num("humidity_pct", "%", 50), flag("door_open", false), flag("smoke", false),
	}
	start := at(0, 0, 0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Observe(set(ups1, start.Add(time.Duration(i)*time.Second), vals...))
	}
}

// BenchmarkObserveUPS is the cost of folding one 12-value UPS sample set
// when 200 UPSes in 20 rooms are polled once a second in turn.
//
//	go test -run '^$' -bench BenchmarkObserveUPS -count 3 ./alerts/daily/
func BenchmarkObserveUPS(b *testing.B) {
	const devices = 200
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	sets := make([]collectors.SampleSet, devices)
	for d := range sets {
		dev := collectors.Device{Site: "main", Room: fmt.Sprintf("room%d", d/10), Name: fmt.Sprintf("ups%d", d),
			Profile: "rfc1628-ups", Class: "ups"}
		sets[d] = ups12(dev, num("load_pct_l2", "%", 33))
	}
	now := at(0, 9, 0, 0)
	step := time.Second / devices
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := &sets[i%devices]
		now = now.Add(step)
		s.Time = now
		s.Values[10].Num = 35 + float64(i%7)/10
		r.Observe(*s)
	}
}

// ups12 is a sample set of dev, a UPS of twelve values: eleven of its
// own and last.
func ups12(dev collectors.Device, last collectors.Value) collectors.SampleSet {
	return set(dev, time.Time{},
		flag("on_battery", false), num("runtime_min", "min", 420), num("charge_pct", "%", 100),
		collectors.Value{Name: "battery_status", Kind: collectors.Enum, Num: 2, Str: "normal"},
		num("battery_voltage_v", "V", 54.6), num("battery_temp_c", "°C", 25), num("seconds_on_battery", "s", 0),
		num("alarms_present", "", 0), num("input_voltage_v", "V", 230), num("output_voltage_v", "V", 230),
		num("load_pct", "%", 35), last)
}

// upsRoom returns a recorder holding a whole day of one room of ten
// 12-value UPSes polled every 10 s (every analog value with its 24
// hours), and the room's record.
func upsRoom(b *testing.B) (*Recorder, *Record) {
	b.Helper()
	r, err := NewRecorder(Config{}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	fillDay(r, "room1", 24)
	return r, r.records[recKey{"main", "room1", "2026-11-25"}]
}

// fillDay observes the first hours of a day of room's ten UPSes, polled
// every 10 s.
func fillDay(r *Recorder, room string, hours int) {
	sets := make([]collectors.SampleSet, 10)
	for d := range sets {
		dev := collectors.Device{Site: "main", Room: room, Name: fmt.Sprintf("ups%d", d), Profile: "rfc1628-ups", Class: "ups"}
		sets[d] = ups12(dev, num("temperature_c", "°C", 23))
	}
	start := at(0, 0, 0, 0)
	for i := range hours * 360 {
		for d := range sets {
			s := &sets[d]
			s.Time = start.Add(time.Duration(i) * 10 * time.Second)
			s.Values[10].Num = 35 + float64(i%7)/10
			s.Values[11].Num = 22 + float64(i%13)/3
			r.Observe(*s)
		}
	}
}

// BenchmarkMarshal is the cost of encoding one room's record at the end
// of its day (ten UPSes) as Flush does, in a buffer it reuses; every
// room's record is encoded at every flush.
//
//	go test -run '^$' -bench BenchmarkMarshal -benchmem ./alerts/daily/
func BenchmarkMarshal(b *testing.B) {
	_, rec := upsRoom(b)
	b.ReportAllocs()
	var n int
	var w jsonBuf
	for b.Loop() {
		data, err := rec.marshalTo(&w)
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "bytes/record")
}

// BenchmarkFlush is one flush at the end of the day of 20 rooms of ten
// UPSes each (200 devices), every record changed since the last: encoding
// and writing them to the bucket of an embedded NATS server.
//
//	go test -run '^$' -bench BenchmarkFlush -benchmem ./alerts/daily/
func BenchmarkFlush(b *testing.B) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	_, js, kv := benchBucket(ctx, b)
	r, err := NewRecorder(Config{FlushInterval: time.Hour}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx, js, kv, at(0, 0, 0, 0)); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	for room := range 20 {
		fillDay(r, fmt.Sprintf("room%d", room), 24)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.mu.Lock()
		for _, rec := range r.records {
			rec.mark(statsChange)
		}
		r.mu.Unlock()
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryDay reports the heap a recorder holds per UPS after the
// first hour and at the end of a day of 20 rooms of ten UPSes polled every
// 10 s (each analog value with its hours).
//
//	go test -run '^$' -bench BenchmarkMemoryDay ./alerts/daily/
func BenchmarkMemoryDay(b *testing.B) {
	for _, hours := range []int{1, 24} {
		b.Run(fmt.Sprintf("hours=%d", hours), func(b *testing.B) { benchMemoryDay(b, hours) })
	}
}

func benchMemoryDay(b *testing.B, hours int) {
	for b.Loop() {
		before := liveHeap()
		r, err := NewRecorder(Config{}, workHours, nil)
		if err != nil {
			b.Fatal(err)
		}
		for room := range 20 {
			fillDay(r, fmt.Sprintf("room%d", room), hours)
		}
		after := liveHeap()
		runtime.KeepAlive(r)
		b.ReportMetric(float64(after-before)/200, "heap-B/device")
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkFlushEvening is the daily record's traffic in the evening for
// 20 rooms of ten 12-value UPSes polled every second, with the default
// flush interval (30 s) and stats intervals of 30 s (every record written
// at every flush, as before there was a stats interval) and 5 m (the
// default): one op is ten minutes of polls and flushes on a simulated
// clock, and bucket-B/min the bytes put in the bucket (and as many
// published) per minute. Statistics are all that change.
//
//	go test -run '^$' -bench BenchmarkFlushEvening -benchmem ./alerts/daily/
func BenchmarkFlushEvening(b *testing.B) {
	for _, stats := range []time.Duration{30 * time.Second, 5 * time.Minute} {
		b.Run("stats="+stats.String(), func(b *testing.B) { benchFlushEvening(b, stats) })
	}
}

func benchFlushEvening(b *testing.B, stats time.Duration) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	nc, js, kv := benchBucket(ctx, b)
	// The benchmark flushes on a simulated clock that runs ahead of the
	// wall clock, so nothing is due at the loop's own flushes.
	r, err := NewRecorder(Config{FlushInterval: 30 * time.Second, StatsInterval: stats}, workHours, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx, js, kv, at(0, 0, 0, 0)); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	// Published records come back on this subscription in the order of
	// the flush, before the flush's round trip ends.
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(alerts.DailySubjectPrefix+".>", ch)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	const rooms, perRoom, hours = 20, 10, 18
	sets := make([]collectors.SampleSet, 0, rooms*perRoom)
	for room := range rooms {
		fillDay(r, fmt.Sprintf("room%d", room), hours)
		for d := range perRoom {
			dev := collectors.Device{Site: "main", Room: fmt.Sprintf("room%d", room), Name: fmt.Sprintf("ups%d", d), Profile: "rfc1628-ups", Class: "ups"}
			sets = append(sets, set(dev, time.Time{}, slices.Clone(r.tracks[dev.Key()].values)...))
		}
	}
	now := at(0, hours, 0, 0)
	clock := time.Now()
	if err := r.flush(ctx, clock, true); err != nil {
		b.Fatal(err)
	}
	for len(ch) > 0 {
		<-ch
	}
	var bytes, minutes int
	b.ReportAllocs()
	for b.Loop() {
		for s := range 600 {
			for i := range sets {
				st := &sets[i]
				st.Time = now
				st.Values[10].Num = 35 + float64(s%7)/10
				st.Values[11].Num = 22 + float64((s+i)%13)/3
				r.Observe(*st)
			}
			now, clock = now.Add(time.Second), clock.Add(time.Second)
			if s%30 == 29 {
				if err := r.flush(ctx, clock, false); err != nil {
					b.Fatal(err)
				}
				for len(ch) > 0 {
					bytes += len((<-ch).Data)
				}
			}
		}
		minutes += 10
	}
	b.ReportMetric(float64(bytes)/float64(minutes), "bucket-B/min")
}

// benchBucket starts an embedded NATS server with the streams of site
// "main" and returns a connection, its JetStream and the daily bucket.
func benchBucket(ctx context.Context, b *testing.B) (*nats.Conn, jetstream.JetStream, jetstream.KeyValue) {
	b.Helper()
	nc, js := natstest.Connect(b, natstest.Start(b))
	if err := alerts.EnsureStreams(ctx, js, "main", alerts.DefaultConfig()); err != nil {
		b.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, alerts.DefaultConfig().DailyBucket)
	if err != nil {
		b.Fatal(err)
	}
	return nc, js, kv
}
