package daily

import (
	"testing"
	"time"
)

// TestDayOf checks the cached day against dayStart and Date, in zones
// with and without daylight saving time, including ones whose clocks
// change at midnight, with times going forward, jumping and going back.
func TestDayOf(t *testing.T) {
	for _, zone := range []string{"Asia/Shanghai", "Europe/Berlin", "America/Santiago", "America/Havana", "Asia/Tehran", "UTC"} {
		r, err := NewRecorder(Config{TimeZone: zone}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
		at := start
		for i := 0; at.Before(start.AddDate(3, 0, 0)); i++ {
			d := r.dayOf(at)
			want := r.dayStart(at)
			if !d.start.Equal(want) || d.date != r.Date(at) || !d.next.Equal(want.AddDate(0, 0, 1)) {
				t.Fatalf("%s: dayOf(%v) = %v %s next %v, want %v %s", zone, at, d.start, d.date, d.next, want, r.Date(at))
			}
			switch i % 7 {
			case 3:
				at = at.Add(-50 * time.Minute)
			default:
				at = at.Add(29*time.Minute + 13*time.Second)
			}
		}
	}
}
