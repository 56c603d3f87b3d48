package patrol

import (
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/daily"
)

// TestHourlyChart: a record with hours draws a point per hour with data,
// marks (and shades) the hours out of the band, breaks the curve at an
// hour without data, and is well-formed SVG.
func TestHourlyChart(t *testing.T) {
	lo, hi := 18.0, 27.0
	hour := func(mn, mx float64) *daily.Hour {
		return &daily.Hour{Count: 2, Sum: mn + mx, Min: mn, Max: mx, Mean: (mn + mx) / 2, Last: mx}
	}
	a := &daily.Analog{Unit: "°C", Count: 12, Min: 16, Max: 29, Mean: 22, Range: &daily.Range{Min: &lo, Max: &hi},
		Hours: make([]*daily.Hour, 24)}
	a.Hours[0], a.Hours[1], a.Hours[2] = hour(20, 21), hour(26, 29), hour(22, 23)  // 1: above
	a.Hours[5], a.Hours[6], a.Hours[23] = hour(16, 19), hour(21, 22), hour(22, 22) // 5: below
	from := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	svg := string(analogChart(a, from, from.AddDate(0, 0, 1)))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	hours := func(class string) []string {
		var hs []string
		for _, m := range regexp.MustCompile(`class="`+class+`" data-hour="(\d+)"`).FindAllStringSubmatch(svg, -1) {
			hs = append(hs, m[1])
		}
		return hs
	}
	if got, want := hours("ph(?: out)?"), []string{"0", "1", "2", "5", "6", "23"}; !slices.Equal(got, want) {
		t.Errorf("points at hours %v, want %v", got, want)
	}
	if got, want := hours("ph out"), []string{"1", "5"}; !slices.Equal(got, want) {
		t.Errorf("out-of-range points at hours %v, want %v", got, want)
	}
	if n := strings.Count(svg, `class="hout"`); n != 2 {
		t.Errorf("%d hours shaded out of range, want 2", n)
	}
	if n := strings.Count(svg, `class="band"`); n != 1 {
		t.Errorf("%d acceptable bands, want 1", n)
	}
	if n := strings.Count(svg, `<polyline`); n != 3 { // 0–2, 5–6, 23
		t.Errorf("%d stretches of curve, want 3:\n%s", n, svg)
	}
	if !strings.Contains(svg, "01:00–02:00 27.5 °C (26 – 29 °C)") {
		t.Errorf("hour 1's title missing:\n%s", svg)
	}
	if analogNote(a) != "chart_hourly" {
		t.Errorf("note %q", analogNote(a))
	}
}

// TestChartWithoutHours: an older record (no hours) gets the day's band,
// min, max and latest as before.
func TestChartWithoutHours(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	a := &daily.Analog{Unit: "%", Count: 3, Min: 40, Max: 60, Mean: 50, Last: 55, MinAt: at, MaxAt: at.Add(time.Hour), LastAt: at.Add(2 * time.Hour)}
	svg := string(analogChart(a, at.Truncate(24*time.Hour), at.Truncate(24*time.Hour).AddDate(0, 0, 1)))
	for _, c := range []string{`class="pmin"`, `class="pmax"`, `class="plast"`, `class="mean"`} {
		if !strings.Contains(svg, c) {
			t.Errorf("no %s in\n%s", c, svg)
		}
	}
	if strings.Contains(svg, "<polyline") || analogNote(a) != "chart_stats_only" {
		t.Errorf("hourly drawing for a record without hours:\n%s", svg)
	}
}
