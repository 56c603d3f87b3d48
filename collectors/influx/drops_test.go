package influx

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// The count is the state; the metric is written from it.
func TestDropsCountAndMetric(t *testing.T) {
	d := newDrops()
	d.add(DropSpoolFull, 3)
	d.add(DropQueueFull, 1)
	d.add(DropSpoolFull, 2)
	if d.Of(DropSpoolFull) != 5 || d.Of(DropQueueFull) != 1 || d.Of(DropUndecodable) != 0 || d.Total() != 6 {
		t.Fatalf("counts %d %d %d, total %d; want 5 1 0, 6", d.Of(DropSpoolFull), d.Of(DropQueueFull), d.Of(DropUndecodable), d.Total())
	}
	for r, want := range map[string]float64{DropSpoolFull: 5, DropQueueFull: 1, DropUndecodable: 0} {
		var m dto.Metric
		if err := d.metric.WithLabelValues(r).Write(&m); err != nil || m.GetCounter().GetValue() != want {
			t.Errorf("metric %s = %v (%v), want %v", r, m.GetCounter().GetValue(), err, want)
		}
	}
}
