package influx

import dto "github.com/prometheus/client_model/go"

// Dropped returns how many spool messages were dropped so far, all reasons
// together; the monitor turns its increase into the spool-dropping alarm.
func (m *Metrics) Dropped() (total float64) {
	for _, r := range dropReasons {
		var d dto.Metric
		if m.dropped.WithLabelValues(r).Write(&d) == nil {
			total += d.GetCounter().GetValue()
		}
	}
	return total
}
