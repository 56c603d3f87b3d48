package main

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roomwatch/roomwatch/collectors"
)

// TestPollMetrics: what /metrics shows of polls, failed polls, skipped
// ticks and a removed device.
func TestPollMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newPollMetrics(reg)
	ups := collectors.Device{Site: "h1", Room: "r1", Name: "ups1"}
	th := collectors.Device{Site: "h1", Room: "r1", Name: "th1"}
	gone := collectors.Device{Site: "h1", Room: "r2", Name: "gone"}
	good := collectors.Value{Name: "load_pct"}
	fault := collectors.Value{Name: "temperature_c", Quality: collectors.SensorFault}
	m.Polled(&collectors.SampleSet{Device: ups, Duration: 3 * time.Millisecond, Values: []collectors.Value{good, good, fault}}, nil)
	m.Polled(&collectors.SampleSet{Device: ups, Duration: 2 * time.Second, Values: []collectors.Value{good}}, nil)
	failed := collectors.Failed(th, time.Now(), 11*time.Second, []collectors.ValueSpec{{Name: "temperature_c"}}, errors.New("timeout"))
	m.Polled(&failed, errors.New("timeout"))
	m.Skipped(th, 2)
	m.Polled(&collectors.SampleSet{Device: gone, Duration: time.Millisecond}, nil)
	m.Skipped(gone, 1)
	m.forget(gone)

	want := `
# HELP roomwatch_device_up 1 if the device answered its last poll.
# TYPE roomwatch_device_up gauge
roomwatch_device_up{device="th1",room="r1",site="h1"} 0
roomwatch_device_up{device="ups1",room="r1",site="h1"} 1
# HELP roomwatch_device_values Values of the last poll by quality (good, sensor-fault, comms-lost).
# TYPE roomwatch_device_values gauge
roomwatch_device_values{device="th1",quality="comms-lost",room="r1",site="h1"} 1
roomwatch_device_values{device="th1",quality="good",room="r1",site="h1"} 0
roomwatch_device_values{device="th1",quality="sensor-fault",room="r1",site="h1"} 0
roomwatch_device_values{device="ups1",quality="comms-lost",room="r1",site="h1"} 0
roomwatch_device_values{device="ups1",quality="good",room="r1",site="h1"} 1
roomwatch_device_values{device="ups1",quality="sensor-fault",room="r1",site="h1"} 0
# HELP roomwatch_poll_duration_seconds Time one poll took, by device.
# TYPE roomwatch_poll_duration_seconds histogram
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.001"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.0025"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.005"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.01"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.025"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.05"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.1"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.25"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="0.5"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="1"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="2.5"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="5"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="10"} 0
roomwatch_poll_duration_seconds_bucket{device="th1",room="r1",site="h1",le="+Inf"} 1
roomwatch_poll_duration_seconds_sum{device="th1",room="r1",site="h1"} 11
roomwatch_poll_duration_seconds_count{device="th1",room="r1",site="h1"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.001"} 0
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.0025"} 0
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.005"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.01"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.025"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.05"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.1"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.25"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="0.5"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="1"} 1
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="2.5"} 2
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="5"} 2
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="10"} 2
roomwatch_poll_duration_seconds_bucket{device="ups1",room="r1",site="h1",le="+Inf"} 2
roomwatch_poll_duration_seconds_sum{device="ups1",room="r1",site="h1"} 2.003
roomwatch_poll_duration_seconds_count{device="ups1",room="r1",site="h1"} 2
# HELP roomwatch_poll_errors_total Polls that got no answer (comms lost), by device.
# TYPE roomwatch_poll_errors_total counter
roomwatch_poll_errors_total{device="th1",room="r1",site="h1"} 1
roomwatch_poll_errors_total{device="ups1",room="r1",site="h1"} 0
# HELP roomwatch_poll_skipped_total Poll ticks skipped because the previous poll of the device was still running.
# TYPE roomwatch_poll_skipped_total counter
roomwatch_poll_skipped_total{device="th1",room="r1",site="h1"} 2
# HELP roomwatch_polls_total Polls finished, by device.
# TYPE roomwatch_polls_total counter
roomwatch_polls_total{device="th1",room="r1",site="h1"} 1
roomwatch_polls_total{device="ups1",room="r1",site="h1"} 2
`
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if got := w.Body.String(); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("/metrics:\n%s\nwant:\n%s", got, want)
	}
}

// BenchmarkPolled is the cost of reporting one poll of a 12-value device
// among 200, and the heap the metrics hold per device.
//
//	go test -run '^$' -bench BenchmarkPolled -benchmem ./cmd/roomwatch/
func BenchmarkPolled(b *testing.B) {
	const devices = 200
	sets := make([]collectors.SampleSet, devices)
	for d := range sets {
		sets[d] = collectors.SampleSet{Device: collectors.Device{Site: "main", Room: fmt.Sprintf("room%d", d/10), Name: fmt.Sprintf("ups%d", d)},
			Duration: 3 * time.Millisecond, Values: make([]collectors.Value, 12)}
	}
	before := liveHeap()
	m := newPollMetrics(prometheus.NewRegistry())
	for i := range sets {
		m.Polled(&sets[i], nil)
	}
	held := liveHeap() - before
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Polled(&sets[i%devices], nil)
	}
	b.ReportMetric(float64(held)/devices, "heap-B/device")
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
