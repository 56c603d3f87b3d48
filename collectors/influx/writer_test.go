package influx

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

func TestWriteReadBack(t *testing.T) {
	srv := influxtest.Start(t)
	p := startPipeline(t, testConfig(srv))

	ups := upsSet(7, t0)
	ups.Values[2].Quality = collectors.SensorFault // charge_pct
	env := envSet("th-1", 0)
	failed := collectors.Failed(env.Device, t0.Add(time.Second), 2*time.Second,
		[]collectors.ValueSpec{{Name: "temperature_c"}, {Name: "humidity_pct"}}, errString("modbus: timeout"))
	for _, s := range []collectors.SampleSet{ups, env, failed} {
		p.spool.Publish(s)
	}
	testutil.Eventually(t, time.Minute, "3 samples written", func() (bool, string) { return p.written() == 3, fmt.Sprint(p.written()) })

	res, err := srv.Query(`SELECT * FROM "roomwatch_ups"; SELECT * FROM "roomwatch_env"; SELECT * FROM "roomwatch_poll" WHERE device='th-1'`)
	if err != nil {
		t.Fatal(err)
	}
	row := func(i int) []map[string]any {
		if len(res[i].Series) != 1 {
			t.Fatalf("statement %d: %d series", i, len(res[i].Series))
		}
		return res[i].Series[0].Rows()
	}
	u := row(0)[0]
	want := map[string]any{
		"time": json.Number(fmt.Sprint(t0.UnixNano())), "site": "h1", "room": "room-1", "device": "ups-007",
		"profile": "rfc1628-ups", "class": "ups",
		"on_battery": false, "runtime_min": json.Number("42"), "charge_pct": nil, "charge_pct_quality": "sensor-fault",
		"battery_status": "normal", "battery_status_code": json.Number("2"), "input_frequency_hz": json.Number("50.01"),
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("roomwatch_ups %s = %#v, want %#v", k, u[k], v)
		}
	}
	e := row(1)
	if len(e) != 2 {
		t.Fatalf("roomwatch_env: %d rows, want 2", len(e))
	}
	if e[0]["temperature_c"] != json.Number("20") || e[0]["rack"] != "A3" || e[0]["room"] != "room 1" {
		t.Errorf("roomwatch_env good row: %v", e[0])
	}
	if e[1]["temperature_c"] != nil || e[1]["temperature_c_quality"] != "comms-lost" ||
		e[1]["time"] != json.Number(fmt.Sprint(t0.Add(time.Second).UnixNano())) {
		t.Errorf("roomwatch_env comms-lost row: %v", e[1])
	}
	pl := row(2)
	if len(pl) != 2 || pl[0]["reachable"] != true || pl[1]["reachable"] != false ||
		pl[1]["error"] != "modbus: timeout" || pl[1]["duration_s"] != json.Number("2") || pl[1]["bad_values"] != json.Number("2") {
		t.Errorf("roomwatch_poll rows: %v", pl)
	}
}

// InfluxDB down for a while: the spool holds every sample and each
// arrives exactly once per timestamp when it returns.
func TestInfluxOutage(t *testing.T) {
	srv := influxtest.Start(t)
	p := startPipeline(t, testConfig(srv))
	const before, during = 50, 2000
	for i := range before {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "first samples written", func() (bool, string) { return p.written() == before, fmt.Sprint(p.written()) })

	srv.Stop()
	for i := before; i < before+during; i++ {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "failed writes", func() (bool, string) {
		n := value(p.m.writeFailures.WithLabelValues("transient"))
		return n >= 2, fmt.Sprint(n)
	})
	testutil.Eventually(t, time.Minute, "samples in the spool", func() (bool, string) {
		return p.published() == before+during, fmt.Sprint(p.published())
	})
	if p.written() != before {
		t.Fatalf("written %d while InfluxDB was down", p.written())
	}
	srv.Start()
	testutil.Eventually(t, time.Minute, "backlog written", func() (bool, string) { return p.written() == before+during, fmt.Sprint(p.written()) })

	res, err := srv.Query(`SELECT temperature_c FROM roomwatch_env`)
	if err != nil {
		t.Fatal(err)
	}
	rows := res[0].Series[0].Rows()
	if len(rows) != before+during {
		t.Fatalf("%d rows, want %d", len(rows), before+during)
	}
	for i, r := range rows {
		if want := json.Number(fmt.Sprint(t0.Add(time.Duration(i) * time.Second).UnixNano())); r["time"] != want {
			t.Fatalf("row %d time %v, want %v", i, r["time"], want)
		}
	}
	if !strings.Contains(p.log.String(), "InfluxDB accepts writes again") {
		t.Errorf("recovery not logged:\n%s", p.log.String())
	}
}

// A writer that dies with a batch in hand (its connection gone, no nak)
// loses nothing: a new writer on the same consumer gets it redelivered.
func TestWriterCrashRedelivers(t *testing.T) {
	srv := influxtest.Start(t)
	cfg := testConfig(srv)
	p := startPipeline(t, cfg)
	const n = 1200
	srv.Stop()
	for i := range n {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "samples in the spool", func() (bool, string) { return p.published() == n, fmt.Sprint(p.published()) })
	js, _ := jetstream.New(p.nc)
	testutil.Eventually(t, time.Minute, "the first writer to hold a batch", func() (bool, string) {
		ci, err := js.Consumer(context.Background(), cfg.Spool.Stream, cfg.Spool.Durable)
		if err != nil {
			return false, err.Error()
		}
		info, err := ci.Info(context.Background())
		if err != nil {
			return false, err.Error()
		}
		return info.NumAckPending > 0, fmt.Sprint(info.NumAckPending)
	})
	// Crash: the first writer's connection dies, so it can neither ack nor nak.
	p.nc.Close()
	p.w.Stop()

	srv.Start()
	nc2 := connect(t, p.nats)
	p.startWriter(t, nc2, cfg)
	testutil.Eventually(t, time.Minute, "all samples in InfluxDB", func() (bool, string) {
		c := count(t, srv, "roomwatch_env", "temperature_c")
		return c == n, fmt.Sprint(c)
	})
	if d := p.dropped(DropSpoolFull); d != 0 {
		t.Errorf("%d counted as dropped\n%s", d, p.log.String())
	}
}

// A line InfluxDB rejects (a field type conflict: HTTP 400) is isolated,
// counted and logged; it blocks neither its batch nor later writes.
func TestRejectedLine(t *testing.T) {
	srv := influxtest.Start(t)
	// temperature_c of roomwatch_bad is a string from now on.
	resp, err := http.Post(srv.URL()+"/write?db="+influxtest.Database, "text/plain",
		strings.NewReader(fmt.Sprintf(`roomwatch_bad,device=x temperature_c="hot" %d`, t0.UnixNano())))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("seed: %v %v", err, resp)
	}
	resp.Body.Close()
	p := startPipeline(t, testConfig(srv))

	bad := envSet("bad-1", 0)
	bad.Device.Class = "bad"
	for i := range 100 {
		if i == 40 {
			p.spool.Publish(bad)
		}
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "the batch written", func() (bool, string) { return p.written() == 101, fmt.Sprint(p.written()) })
	for i := 100; i < 150; i++ {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "later samples written", func() (bool, string) { return p.written() == 151, fmt.Sprint(p.written()) })

	if c := count(t, srv, "roomwatch_env", "temperature_c"); c != 150 {
		t.Errorf("roomwatch_env has %d points, want 150", c)
	}
	if r := value(p.m.rejected); r != 1 {
		t.Errorf("rejected lines = %v, want 1", r)
	}
	// The bad device's poll line is fine and written.
	if c := count(t, srv, "roomwatch_poll", "duration_s"); c != 151 {
		t.Errorf("roomwatch_poll has %d points, want 151", c)
	}
	if log := p.log.String(); !strings.Contains(log, "rejected a line") || !strings.Contains(log, `roomwatch_bad,class=bad,device=bad-1`) {
		t.Errorf("rejection not logged with the line:\n%s", log)
	}
}

// The spool's bound reached while InfluxDB is down: the oldest samples
// are dropped, counted and logged; everything else arrives.
func TestSpoolBoundDrops(t *testing.T) {
	srv := influxtest.Start(t)
	cfg := testConfig(srv)
	cfg.BatchSize = 100 << 10
	cfg.Spool.MaxBytes = 256 << 10
	cfg.Spool.BatchBytes = 1 // a message per sample set: drops are counted in messages
	srv.Stop()
	p := startPipeline(t, cfg)
	const n = 3000 // ~1 MB
	for i := range n {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "samples in the spool", func() (bool, string) { return p.published() == n, fmt.Sprint(p.published()) })
	testutil.Eventually(t, time.Minute, "drops counted", func() (bool, string) {
		d := p.dropped(DropSpoolFull)
		return d > 0, fmt.Sprint(d)
	})
	srv.Start()
	testutil.Eventually(t, time.Minute, "the spool drained", func() (bool, string) {
		return value(p.m.depthMsgs) == 0 && p.written()+p.dropped(DropSpoolFull) == n,
			fmt.Sprintf("depth %v written %d dropped %d", value(p.m.depthMsgs), p.written(), p.dropped(DropSpoolFull))
	})
	c := count(t, srv, "roomwatch_env", "temperature_c")
	if int(c) != p.written() {
		t.Errorf("InfluxDB has %d points, writer says %d", c, p.written())
	}
	// The newest samples survived.
	res, err := srv.Query(`SELECT LAST(temperature_c) FROM roomwatch_env`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res[0].Series[0].Values[0][0], json.Number(fmt.Sprint(t0.Add((n-1)*time.Second).UnixNano())); got != want {
		t.Errorf("newest sample at %v, want %v", got, want)
	}
	if !strings.Contains(p.log.String(), "SPOOL FULL") {
		t.Errorf("drop not logged loudly:\n%s", p.log.String())
	}
	t.Logf("written %d, dropped %d of %d", p.written(), p.dropped(DropSpoolFull), n)
}

// A spool message that is not ours (no format header: an older or foreign
// publisher) is dropped, counted and logged; it blocks nothing.
func TestUnknownFormatDropped(t *testing.T) {
	srv := influxtest.Start(t)
	p := startPipeline(t, testConfig(srv))
	js, err := jetstream.New(p.nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, DefaultSubjectPrefix+".h1", []byte(`{"device":{"site":"h1"}}`)); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p.spool.Publish(envSet("th-1", i))
	}
	testutil.Eventually(t, time.Minute, "samples written", func() (bool, string) { return p.written() == 10, fmt.Sprint(p.written()) })
	testutil.Eventually(t, time.Minute, "the foreign message dropped", func() (bool, string) {
		return p.dropped(DropUndecodable) == 1, fmt.Sprint(p.dropped(DropUndecodable))
	})
	if !strings.Contains(p.log.String(), "unknown format") {
		t.Errorf("drop not logged:\n%s", p.log.String())
	}
	if c := count(t, srv, "roomwatch_env", "temperature_c"); c != 10 {
		t.Errorf("roomwatch_env has %d points, want 10", c)
	}
}

// The spool writes its lines in the writer's precision, and the writer
// posts them as they are. A spool written in another precision (in
// nanoseconds by an older monitor, or before `precision` was changed)
// still drains, its timestamps rewritten, rounded down.
func TestSpoolOfAnotherPrecision(t *testing.T) {
	srv := influxtest.Start(t)
	cfg := testConfig(srv) // precision ms
	p := startPipeline(t, cfg)
	at := t0.Add(123456789 * time.Nanosecond)
	want := map[string]time.Time{
		"th-ns": at.Truncate(time.Millisecond), "th-s": t0, "th-ms": at.Truncate(time.Millisecond),
	}
	for dev := range want {
		sc := cfg.Spool
		sc.Precision = strings.TrimPrefix(dev, "th-")
		sp, err := NewSpool(p.nc, sc, slog.New(slog.DiscardHandler), NewMetrics(nil))
		if err != nil {
			t.Fatal(err)
		}
		sp.Start()
		set := envSet(dev, 0)
		set.Time = at
		sp.Publish(set)
		if lost := sp.Stop(context.Background()); lost != 0 {
			t.Fatalf("spool %s lost %d sets", sc.Precision, lost)
		}
	}
	testutil.Eventually(t, time.Minute, "3 samples written", func() (bool, string) { return p.written() == 3, fmt.Sprint(p.written()) })
	res, err := srv.Query(`SELECT temperature_c, device FROM "roomwatch_env"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Series) != 1 {
		t.Fatalf("result: %+v", res)
	}
	rows := res[0].Series[0].Rows()
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %v", len(rows), rows)
	}
	for _, r := range rows {
		dev, _ := r["device"].(string)
		if w, ok := want[dev]; !ok || r["time"] != json.Number(fmt.Sprint(w.UnixNano())) {
			t.Errorf("device %s written at %v, want %v", dev, r["time"], w.UnixNano())
		}
	}
}
