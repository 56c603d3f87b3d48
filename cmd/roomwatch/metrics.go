package main

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomwatch/roomwatch/collectors"
)

// pollMetrics reports every poll to Prometheus; it is the scheduler's
// collectors.Observer.
type pollMetrics struct {
	polls    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	skipped  *prometheus.CounterVec
	up       *prometheus.GaugeVec
	values   *prometheus.GaugeVec

	mu      sync.Mutex
	devices map[deviceKey]*deviceMetrics
}

// deviceKey is a device's label values.
type deviceKey struct{ site, room, device string }

func keyOf(d *collectors.Device) deviceKey { return deviceKey{d.Site, d.Room, d.Name} }

// deviceMetrics are one device's series, looked up once (a label lookup
// hashes the label values on every call).
type deviceMetrics struct {
	polls, errors prometheus.Counter
	duration      prometheus.Observer
	up            prometheus.Gauge
	values        [3]prometheus.Gauge // by quality
}

// device returns the series of d, creating them on first use.
func (m *pollMetrics) device(d collectors.Device) *deviceMetrics {
	k := keyOf(&d)
	m.mu.Lock()
	defer m.mu.Unlock()
	if dm := m.devices[k]; dm != nil {
		return dm
	}
	dm := &deviceMetrics{
		polls:    m.polls.WithLabelValues(k.site, k.room, k.device),
		errors:   m.errors.WithLabelValues(k.site, k.room, k.device),
		duration: m.duration.WithLabelValues(k.site, k.room, k.device),
		up:       m.up.WithLabelValues(k.site, k.room, k.device),
	}
	for q := range dm.values {
		dm.values[q] = m.values.WithLabelValues(k.site, k.room, k.device, collectors.Quality(q).String())
	}
	m.devices[k] = dm
	return dm
}

func newPollMetrics(reg prometheus.Registerer) *pollMetrics {
	labels := []string{"site", "room", "device"}
	m := &pollMetrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_polls_total", Help: "Polls finished, by device.",
		}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_poll_errors_total", Help: "Polls that got no answer (comms lost), by device.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "roomwatch_poll_duration_seconds", Help: "Time one poll took, by device.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_poll_skipped_total", Help: "Poll ticks skipped because the previous poll of the device was still running.",
		}, labels),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomwatch_device_up", Help: "1 if the device answered its last poll.",
		}, labels),
		values: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomwatch_device_values", Help: "Values of the last poll by quality (good, sensor-fault, comms-lost).",
		}, append(labels, "quality")),
		devices: make(map[deviceKey]*deviceMetrics),
	}
	reg.MustRegister(m.polls, m.errors, m.duration, m.skipped, m.up, m.values)
	return m
}

// Polled implements collectors.Observer.
func (m *pollMetrics) Polled(s *collectors.SampleSet, err error) {
	dm := m.device(s.Device)
	dm.polls.Inc()
	dm.duration.Observe(s.Duration.Seconds())
	up := 1.0
	if err != nil || !s.Reachable() {
		up = 0
		dm.errors.Inc()
	}
	dm.up.Set(up)
	var n [len(dm.values)]int
	for _, v := range s.Values {
		if v.Quality >= 0 && int(v.Quality) < len(n) {
			n[v.Quality]++
		}
	}
	for q, c := range n {
		dm.values[q].Set(float64(c))
	}
}

// Skipped implements collectors.Observer.
func (m *pollMetrics) Skipped(d collectors.Device, ticks int) {
	m.skipped.WithLabelValues(d.Site, d.Room, d.Name).Add(float64(ticks))
}

// forget drops a removed device's series.
func (m *pollMetrics) forget(d collectors.Device) {
	m.mu.Lock()
	delete(m.devices, keyOf(&d))
	m.mu.Unlock()
	l := prometheus.Labels{"site": d.Site, "room": d.Room, "device": d.Name}
	m.polls.DeletePartialMatch(l)
	m.errors.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.skipped.DeletePartialMatch(l)
	m.up.DeletePartialMatch(l)
	m.values.DeletePartialMatch(l)
}
