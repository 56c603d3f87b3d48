package influx

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the spool's and the writer's Prometheus metrics. Make one
// with NewMetrics and pass it to NewSpool and NewWriter.
type Metrics struct {
	queued        prometheus.Gauge
	published     prometheus.Counter
	publishErrors prometheus.Counter
	dropped       *prometheus.CounterVec
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

// Reasons a sample is dropped, the "reason" label of
// roomwatch_spool_dropped_messages_total.
const (
	// DropSpoolFull: the spool reached max_bytes or max_age and
	// discarded its oldest messages before InfluxDB accepted them.
	DropSpoolFull = "spool_full"
	// DropQueueFull: the in-memory queue in front of the spool overflowed
	// (NATS too slow or unreachable) and its oldest batch was discarded.
	DropQueueFull = "queue_full"
	// DropUndecodable: a spool message not in the spool's format.
	DropUndecodable = "undecodable"
)

// dropReasons are the values of the "reason" label.
var dropReasons = []string{DropSpoolFull, DropQueueFull, DropUndecodable}

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
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomwatch_spool_dropped_messages_total",
			Help: "Spool messages (each a batch of sample sets) lost before InfluxDB accepted them, by reason (spool_full, queue_full, undecodable).",
		}, []string{"reason"}),
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
	for _, r := range dropReasons {
		m.dropped.WithLabelValues(r)
	}
	for _, k := range []string{"transient", "rejected"} {
		m.writeFailures.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.queued, m.published, m.publishErrors, m.dropped, m.depthMsgs, m.depthBytes,
			m.maxBytes, m.oldestAge, m.writeLatency, m.writeFailures, m.written, m.writtenLines, m.rejected)
	}
	return m
}
