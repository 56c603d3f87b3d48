package daily

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// TestObserveValueOrder feeds two recorders the same readings over two
// midnights, one always in the same order and the other in an order that
// changes from poll to poll: apart from the last values as they came,
// their records must be the same.
func TestObserveValueOrder(t *testing.T) {
	steady, shuffled := newRec(t), newRec(t)
	vals := []collectors.Value{flag("on_battery", false), num("runtime_min", "min", 40), num("temperature_c", "°C", 26),
		num("humidity_pct", "%", 58), flag("door_open", false), flag("smoke", false)}
	now := at(0, 22, 0, 0)
	for i := 0; now.Before(at(2, 2, 0, 0)); i++ {
		now = now.Add(time.Duration(1+i%23) * time.Second)
		for j := range vals {
			v := &vals[j]
			v.Quality = collectors.Good
			switch {
			case v.Kind == collectors.Bool && i%(37+j) == 0:
				v.Num = 1 - v.Num
			case v.Kind == collectors.Number:
				v.Num += float64(i%5-2) / 4
			}
			if i%(101+j) == 0 {
				v.Quality = collectors.SensorFault
			}
		}
		s := set(ups1, now, vals...)
		if i%89 == 0 {
			s = failed(ups1, now)
		}
		steady.Observe(s)
		rot := append([]collectors.Value(nil), s.Values...)
		k := i % len(rot)
		s.Values = append(rot[k:], rot[:k]...)
		shuffled.Observe(s)
	}
	for d := 0; d <= 2; d++ {
		date := at(d, 0, 0, 0).Format(time.DateOnly)
		a, b := snap(t, steady, date), snap(t, shuffled, date)
		for _, rec := range []*Record{a, b} {
			rec.Summary = Summary{}
			for _, dd := range rec.Devices {
				dd.Last = nil
			}
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: records differ:\n%s\n%s", date, ja, jb)
		}
	}
}
