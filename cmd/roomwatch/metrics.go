package main

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomwatch/roomwatch/collectors"
)

// pollMetrics reports every poll to Prometheus; it is the scheduler's
// collectors.Observer and a prometheus.Collector.
//
// It keeps each device's figures in one small struct and makes the
// series only when /metrics is scraped: a child of a metric vector per
// device and series (eight of them, each with its own label pairs) took
// about 5 KB per device, held for as long as the device is polled.
type pollMetrics struct {
	polls, errors, duration, skipped, up, values *prometheus.Desc

	mu      sync.Mutex
	devices map[collectors.DeviceKey]*deviceMetrics
}

// pollBuckets are the upper bounds of roomwatch_poll_duration_seconds.
var pollBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// deviceMetrics are one device's figures, guarded by pollMetrics.mu.
type deviceMetrics struct {
	// polled: a poll was reported (the poll series exist); skips: a
	// skipped tick was (roomwatch_poll_skipped_total exists).
	polled, skips bool
	polls, errors uint64
	skipped       uint64
	up            bool
	values        [3]int // of the last poll, by quality
	// The duration histogram: counts per bucket (not cumulative), the
	// count and the sum.
	buckets [len(pollBuckets)]uint64
	count   uint64
	sumSecs float64
	// labels are the site, room and device label values.
	labels [3]string
}

func newPollMetrics(reg prometheus.Registerer) *pollMetrics {
	labels := []string{"site", "room", "device"}
	m := &pollMetrics{
		polls:    prometheus.NewDesc("roomwatch_polls_total", "Polls finished, by device.", labels, nil),
		errors:   prometheus.NewDesc("roomwatch_poll_errors_total", "Polls that got no answer (comms lost), by device.", labels, nil),
		duration: prometheus.NewDesc("roomwatch_poll_duration_seconds", "Time one poll took, by device.", labels, nil),
		skipped: prometheus.NewDesc("roomwatch_poll_skipped_total",
			"Poll ticks skipped because the previous poll of the device was still running.", labels, nil),
		up: prometheus.NewDesc("roomwatch_device_up", "1 if the device answered its last poll.", labels, nil),
		values: prometheus.NewDesc("roomwatch_device_values",
			"Values of the last poll by quality (good, sensor-fault, comms-lost).", append(labels, "quality"), nil),
		devices: make(map[collectors.DeviceKey]*deviceMetrics),
	}
	reg.MustRegister(m)
	return m
}

// device returns the figures of d, creating them on first use. m.mu is
// held.
func (m *pollMetrics) device(d *collectors.Device) *deviceMetrics {
	k := d.Key()
	dm := m.devices[k]
	if dm == nil {
		dm = &deviceMetrics{labels: [3]string{k.Site, k.Room, k.Name}}
		m.devices[k] = dm
	}
	return dm
}

// Polled implements collectors.Observer.
func (m *pollMetrics) Polled(s *collectors.SampleSet, err error) {
	var n [len(deviceMetrics{}.values)]int
	for _, v := range s.Values {
		if v.Quality >= 0 && int(v.Quality) < len(n) {
			n[v.Quality]++
		}
	}
	secs := s.Duration.Seconds()
	b := len(pollBuckets) // +Inf
	for i, ub := range pollBuckets {
		if secs <= ub {
			b = i
			break
		}
	}
	up := err == nil && s.Reachable()

	m.mu.Lock()
	defer m.mu.Unlock()
	dm := m.device(&s.Device)
	dm.polled = true
	dm.polls++
	if !up {
		dm.errors++
	}
	dm.up = up
	dm.values = n
	if b < len(dm.buckets) {
		dm.buckets[b]++
	}
	dm.count++
	dm.sumSecs += secs
}

// Skipped implements collectors.Observer.
func (m *pollMetrics) Skipped(d collectors.Device, ticks int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dm := m.device(&d)
	dm.skips = true
	dm.skipped += uint64(ticks)
}

// forget drops a removed device's series.
func (m *pollMetrics) forget(d collectors.Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.devices, d.Key())
}

// Describe implements prometheus.Collector.
func (m *pollMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.polls, m.errors, m.duration, m.skipped, m.up, m.values} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *pollMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	devices := make([]deviceMetrics, 0, len(m.devices))
	for _, dm := range m.devices {
		devices = append(devices, *dm)
	}
	m.mu.Unlock()
	for i := range devices {
		m.collect(ch, &devices[i])
	}
}

// collect sends the series of one device.
func (m *pollMetrics) collect(ch chan<- prometheus.Metric, dm *deviceMetrics) {
	l := dm.labels[:]
	if dm.skips {
		ch <- prometheus.MustNewConstMetric(m.skipped, prometheus.CounterValue, float64(dm.skipped), l...)
	}
	if !dm.polled {
		return
	}
	ch <- prometheus.MustNewConstMetric(m.polls, prometheus.CounterValue, float64(dm.polls), l...)
	ch <- prometheus.MustNewConstMetric(m.errors, prometheus.CounterValue, float64(dm.errors), l...)
	up := 0.0
	if dm.up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, up, l...)
	for q, c := range dm.values {
		ch <- prometheus.MustNewConstMetric(m.values, prometheus.GaugeValue, float64(c),
			l[0], l[1], l[2], collectors.Quality(q).String())
	}
	cum := make(map[float64]uint64, len(pollBuckets))
	var c uint64
	for i, ub := range pollBuckets {
		c += dm.buckets[i]
		cum[ub] = c
	}
	ch <- prometheus.MustNewConstHistogram(m.duration, dm.count, dm.sumSecs, cum, l...)
}

var _ prometheus.Collector = (*pollMetrics)(nil)
