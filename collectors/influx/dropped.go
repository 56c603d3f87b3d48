package influx

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Dropped returns how many samples were dropped so far, all reasons
// together; the monitor turns its increase into the spool-dropping alarm.
func (m *Metrics) Dropped() float64 {
	ch := make(chan prometheus.Metric, 8)
	go func() {
		m.dropped.Collect(ch)
		close(ch)
	}()
	total := 0.0
	for mt := range ch {
		var d dto.Metric
		if mt.Write(&d) == nil {
			total += d.GetCounter().GetValue()
		}
	}
	return total
}
