package influx

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
)

// runNATS starts an embedded JetStream server as roomwatch runs it (see
// natsOn) for the test; edit changes its options first.
func runNATS(t testing.TB, edit ...func(*server.Options)) *server.Server {
	t.Helper()
	s, err := natsOn(t.TempDir(), edit...)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func connect(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatalf("nats connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// logBuf collects log output for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	if os.Getenv("ROOMWATCH_TEST_LOG") != "" {
		os.Stderr.Write(p)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	b := &logBuf{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo})), b
}

// testConfig is a writer config for srv with fast timings.
func testConfig(srv *influxtest.Server) Config {
	c := DefaultConfig()
	c.URL = srv.URL()
	c.Bucket = influxtest.Database + "/autogen"
	c.Precision = "ms"
	c.BatchSize = 500 << 10
	c.FlushInterval = 100 * time.Millisecond
	c.Timeout = 5 * time.Second
	c.Spool.AckWait = 2 * time.Second
	c.Spool.MonitorInterval = 100 * time.Millisecond
	c.Spool.MaxBytes = 64 << 20
	return c
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// envSet is a T/H sample of device dev at t0 + i seconds.
func envSet(dev string, i int) collectors.SampleSet {
	return collectors.SampleSet{
		Device: collectors.Device{Site: "h1", Room: "room 1", Name: dev, Profile: "modbus-th", Class: "env",
			Labels: map[string]string{"rack": "A3"}},
		Time:     t0.Add(time.Duration(i) * time.Second),
		Duration: 15 * time.Millisecond,
		Values: []collectors.Value{
			{Name: "temperature_c", Unit: "°C", Kind: collectors.Number, Num: 20 + float64(i%100)/10},
			{Name: "humidity_pct", Unit: "%", Kind: collectors.Number, Num: 45},
		},
	}
}

// upsSet is a 12-value UPS sample (the benchmark workload's shape).
func upsSet(dev int, at time.Time) collectors.SampleSet {
	s := collectors.SampleSet{
		Device:   collectors.Device{Site: "h1", Room: "room-1", Name: fmt.Sprintf("ups-%03d", dev), Profile: "rfc1628-ups", Class: "ups"},
		Time:     at,
		Duration: 3 * time.Millisecond,
		Values: []collectors.Value{
			{Name: "on_battery", Kind: collectors.Bool, Num: 0},
			{Name: "runtime_min", Unit: "min", Kind: collectors.Number, Num: 42},
			{Name: "charge_pct", Unit: "%", Kind: collectors.Number, Num: 100},
			{Name: "battery_status", Kind: collectors.Enum, Num: 2, Str: "normal"},
			{Name: "battery_voltage_v", Unit: "V", Kind: collectors.Number, Num: 54.6},
			{Name: "battery_temp_c", Unit: "°C", Kind: collectors.Number, Num: 24},
			{Name: "input_voltage_v", Unit: "V", Kind: collectors.Number, Num: 229.5},
			{Name: "output_voltage_v", Unit: "V", Kind: collectors.Number, Num: 230.1},
			{Name: "load_pct", Unit: "%", Kind: collectors.Number, Num: 37},
			{Name: "seconds_on_battery", Unit: "s", Kind: collectors.Number, Num: 0},
			{Name: "alarms_present", Kind: collectors.Number, Num: 0},
			{Name: "input_frequency_hz", Unit: "Hz", Kind: collectors.Number, Num: 50.01},
		},
	}
	return s
}

func count(t testing.TB, srv *influxtest.Server, meas, field string) int64 {
	t.Helper()
	n, err := srv.Count(meas, field)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// pipeline starts a spool and a writer on a fresh NATS server.
type pipeline struct {
	nats  *server.Server
	nc    *nats.Conn
	spool *Spool
	w     *Writer
	m     *Metrics
	log   *logBuf
}

func startPipeline(t testing.TB, cfg Config) *pipeline {
	t.Helper()
	p := &pipeline{nats: runNATS(t), m: NewMetrics(nil)}
	p.nc = connect(t, p.nats)
	var log *slog.Logger
	log, p.log = newLog()
	cfg.Spool.Precision = cfg.Precision // as the monitor sets it
	sp, err := NewSpool(p.nc, cfg.Spool, log, p.m)
	if err != nil {
		t.Fatal(err)
	}
	sp.Start()
	p.spool = sp
	t.Cleanup(func() { sp.Stop(context.Background()) })
	p.w = p.startWriter(t, p.nc, cfg)
	return p
}

func (p *pipeline) startWriter(t testing.TB, nc *nats.Conn, cfg Config) *Writer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(p.log, nil))
	w, err := NewWriter(nc, cfg, log, p.m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func (p *pipeline) published() int { return int(value(p.m.published)) }
func (p *pipeline) written() int   { return int(value(p.m.written)) }
func (p *pipeline) dropped(reason string) int {
	return int(p.m.drops.Of(reason))
}
