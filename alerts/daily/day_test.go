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
			wantNext := r.dayStart(want.Add(36 * time.Hour)) // days are 23 to 25 hours
			if !d.start.Equal(want) || d.date != r.Date(at) || !d.next.Equal(wantNext) {
				t.Fatalf("%s: dayOf(%v) = %v %s next %v, want %v %s next %v", zone, at, d.start, d.date, d.next, want, r.Date(at), wantNext)
			}
			// The day starts on its own date, and the instant before is
			// the day before (clocks that jump over midnight included).
			if r.Date(want) != d.date || r.Date(want.Add(-time.Nanosecond)) == d.date || r.Date(wantNext.Add(-time.Nanosecond)) != d.date {
				t.Fatalf("%s: day %s starts at %v (%s), next at %v", zone, d.date, want, r.Date(want), wantNext)
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
