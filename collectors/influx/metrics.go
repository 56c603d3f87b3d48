package influx

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the spool's and the writer's Prometheus metrics. Make one
// with NewMetrics and pass it to NewSpool and NewWriter.
type Metrics struct {
	queued        prometheus.Gauge
	published     prometheus.Counter
	publishErrors prometheus.Counter
	drops         *Drops
	depthMsgs     prometheus.Gauge
	depthBytes    prometheus.Gauge
	maxBytes      prometheus.Gauge
	oldestAge     prometheus.Gauge
	writeLatency  prometheus.Histogram
	writeFailures *prometheus.CounterVec
	written       prometheus.Counter
	writtenLines  prometheus.Counter
	rejected      prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomwatch_spool_queue_length",
			Help: "Samples waiting in memory to be published to the spool.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomwatch_spool_published_total",
			Help: "Samples the spool stream acknowledged.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomwatch_spool_publish_errors_total",
			Help: "Publishes to the spool stream that failed and were queued again.",
		}),
		drops: newDrops(),
		depthMsgs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomwatch_spool_messages",
			Help: "Spool messages (each a batch of sample sets) not yet accepted by InfluxDB.",
		}),
		depthBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomwatch_spool_bytes",
			Help: "Bytes in the spool not yet accepted by InfluxDB.",
		}),
		maxBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomwatch_spool_max_bytes",
			Help: "The spool's bound in bytes; the oldest samples are dropped beyond it.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomwatch_spool_oldest_age_seconds",
			Help: "Age of the oldest sample in the spool (0 when empty).",
		}),
		writeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomwatch_influx_write_duration_seconds",
			Help:    "Latency of InfluxDB write requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		writeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_influx_write_failures_total",
			Help: "Failed InfluxDB write requests, by kind (transient: retried; rejected: malformed, split and isolated).",
		}, []string{"kind"}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomwatch_influx_written_samples_total",
			Help: "Samples InfluxDB accepted and the spool released.",
		}),
		writtenLines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomwatch_influx_written_lines_total",
			Help: "Line protocol lines InfluxDB accepted.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomwatch_influx_rejected_lines_total",
			Help: "Line protocol lines InfluxDB rejected as malformed (HTTP 400/422); logged and dropped.",
		}),
	}
	for _, k := range []string{"transient", "rejected"} {
		m.writeFailures.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.queued, m.published, m.publishErrors, m.drops.metric, m.depthMsgs, m.depthBytes,
			m.maxBytes, m.oldestAge, m.writeLatency, m.writeFailures, m.written, m.writtenLines, m.rejected)
	}
	return m
}

// Dropped is how many spool messages were lost so far, all reasons
// together; the monitor turns its increase into the spool-dropping alarm.
func (m *Metrics) Dropped() uint64 { return m.drops.Total() }
