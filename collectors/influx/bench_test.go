package influx

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// The benchmark workload of the collectors: 200 devices x 12 values.
const benchDevices = 200

// cpuTime returns the user+system CPU time of process pid (0: this one)
// from /proc.
func cpuTime(tb testing.TB, pid int) time.Duration {
	p := "/proc/self/stat"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatalf("read %s: %v", p, err)
	}
	// Fields after the command name in parentheses; utime and stime are
	// the 14th and 15th fields overall, in clock ticks (100 Hz).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// peakRSS returns VmHWM of this process in MiB.
func peakRSS(tb testing.TB) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// publishWorkload feeds n UPS samples (benchDevices devices, one second apart per
// device) starting at sample number from, keeping the in-memory queue
// under half full as a real collector rate would.
func publishWorkload(b *testing.B, p *pipeline, from, n int) {
	for i := from; i < from+n; i++ {
		if i%256 == 0 {
			// Not testutil.Eventually: its 10 ms step would slow the
			// workload down.
			for deadline := time.Now().Add(time.Minute); value(p.m.queued) > float64(DefaultQueue/2); {
				if time.Now().After(deadline) {
					b.Fatalf("the spool's queue stayed over half full for a minute")
				}
				time.Sleep(time.Millisecond)
			}
		}
		p.spool.Publish(upsSet(i%benchDevices, t0.Add(time.Duration(i/benchDevices)*time.Second)))
	}
}

func benchConfig(srv *influxtest.Server) Config {
	c := DefaultConfig()
	c.URL = srv.URL()
	c.Bucket = influxtest.Database + "/autogen"
	c.Spool.MaxBytes = 8 << 30
	if p := os.Getenv("ROOMWATCH_BENCH_PERSIST"); p != "" {
		c.Spool.Persist = p
	}
	return c
}

// BenchmarkPipeline measures samples through spool -> writer -> a real
// influxd, end to end: one op is one 12-value sample set published by a
// collector and accepted by InfluxDB. cpu-us/value is this process's CPU
// (collectors' publish, embedded NATS server, writer) per value;
// influxd-cpu-us/value is InfluxDB's.
//
//	go test ./collectors/influx/ -run '^$' -bench Pipeline -benchtime 200000x
func BenchmarkPipeline(b *testing.B) {
	srv := influxtest.Start(b)
	p := startPipeline(b, benchConfig(srv))
	// Warm up: create the shards and series.
	publishWorkload(b, p, 0, benchDevices)
	testutil.Eventually(b, time.Minute, "warm-up", func() (bool, string) { return p.written() == benchDevices, fmt.Sprint(p.written()) })

	cpu0, icpu0 := cpuTime(b, 0), cpuTime(b, srv.Pid())
	b.ResetTimer()
	start := time.Now()
	publishWorkload(b, p, benchDevices, b.N)
	testutil.Eventually(b, 10*time.Minute, "every sample written", func() (bool, string) {
		return p.written() == benchDevices+b.N, fmt.Sprint(p.written())
	})
	el := time.Since(start)
	b.StopTimer()
	values := float64(b.N * 12)
	b.ReportMetric(values/el.Seconds(), "values/s")
	b.ReportMetric(float64((cpuTime(b, 0)-cpu0).Microseconds())/values, "cpu-us/value")
	b.ReportMetric(float64((cpuTime(b, srv.Pid())-icpu0).Microseconds())/values, "influxd-cpu-us/value")
	b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
	if d := p.dropped(DropQueueFull) + p.dropped(DropSpoolFull); d != 0 {
		b.Fatalf("%d samples dropped", d)
	}
}

// BenchmarkDrain measures how fast a backlog drains once InfluxDB
// returns. The backlog is ROOMWATCH_BENCH_BACKLOG seconds (default 60) of
// the workload (200 devices x 12 values every second); the case
// is one hour, 3600:
//
//	ROOMWATCH_BENCH_BACKLOG=3600 go test ./collectors/influx/ -run '^$' -bench Drain -benchtime 1x -timeout 30m
func BenchmarkDrain(b *testing.B) {
	secs := 60
	if v := os.Getenv("ROOMWATCH_BENCH_BACKLOG"); v != "" {
		secs, _ = strconv.Atoi(v)
	}
	n := secs * benchDevices
	for range b.N {
		b.StopTimer()
		srv := influxtest.Start(b)
		p := startPipeline(b, benchConfig(srv))
		srv.Stop()
		publishWorkload(b, p, 0, n)
		testutil.Eventually(b, time.Minute, "backlog in the spool", func() (bool, string) { return p.published() == n, fmt.Sprint(p.published()) })
		b.StartTimer()
		start := time.Now()
		cpu0 := cpuTime(b, 0)
		srv.Start()
		testutil.Eventually(b, 20*time.Minute, "the backlog written", func() (bool, string) { return p.written() >= n, fmt.Sprint(p.written()) })
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "drain-s")
		b.ReportMetric(float64(n*12)/el.Seconds(), "values/s")
		b.ReportMetric(float64((cpuTime(b, 0)-cpu0).Microseconds())/float64(n*12), "cpu-us/value")
		b.ReportMetric(float64(n)*12/float64(benchDevices*12)/el.Seconds(), "x-realtime")
		var hm dto.Metric
		_ = p.m.writeLatency.Write(&hm)
		b.ReportMetric(hm.Histogram.GetSampleSum()/el.Seconds(), "writing-fraction")
		b.ReportMetric(float64(hm.Histogram.GetSampleCount()), "writes")
		b.StopTimer()
		p.w.Stop()
		srv.Stop()
	}
}

// BenchmarkAppend is the cost of encoding one 12-value UPS sample set as
// line protocol, as Spool.Publish does for every poll, polling
// benchDevices devices in turn into a reused buffer.
//
//	go test -run '^$' -bench BenchmarkAppend -benchmem ./collectors/influx/
func BenchmarkAppend(b *testing.B) {
	sets := make([]collectors.SampleSet, benchDevices)
	for d := range sets {
		sets[d] = upsSet(d, t0)
		sets[d].Device.Labels = map[string]string{"rack": fmt.Sprintf("A%d", d%8)}
	}
	var e encoder
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if len(buf) > 60<<10 {
			buf = buf[:0]
		}
		s := &sets[i%benchDevices]
		s.Values[8].Num = 37 + float64(i%5)
		buf, _ = e.Append(buf, s)
	}
}
