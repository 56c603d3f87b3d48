package patrol

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/daily"
)

// Charts are small inline SVGs drawn on the server from the daily record
// (never from InfluxDB, never from the internet). The record keeps a
// day's statistics, not a series: an analog chart shows the acceptable
// band, the minimum, maximum and latest values at their times and the
// mean; a timeline shows stretches (on battery) across the day.

const (
	chartW, chartH = 240.0, 60.0
	padL, padR     = 4.0, 4.0
	padT, padB     = 6.0, 12.0
)

// xOf maps t to the chart's x within [from, to).
func xOf(t, from, to time.Time) float64 {
	span := to.Sub(from).Seconds()
	if span <= 0 {
		return padL
	}
	f := t.Sub(from).Seconds() / span
	f = min(max(f, 0), 1)
	return padL + f*(chartW-padL-padR)
}

// axis draws the hour ticks 0, 6, 12, 18, 24 of the day.
func axis(b *strings.Builder, from, to time.Time) {
	y := chartH - padB
	fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="ax"/>`, padL, y, chartW-padR, y)
	for h := 0; h <= 24; h += 6 {
		x := padL + float64(h)/24*(chartW-padL-padR)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" class="ax"/><text x="%.1f" y="%g" class="tk">%02d</text>`, x, y, x, y+3, x, chartH-1, h%24)
	}
}

func open() *strings.Builder {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" class="chart" role="img">`, chartW, chartH)
	return &b
}

// analogChart draws a value's day: band, min, max, latest, mean.
func analogChart(a *daily.Analog, from, to time.Time) template.HTML {
	b := open()
	lo, hi := a.Min, a.Max
	if a.Range != nil {
		if a.Range.Min != nil {
			lo = min(lo, *a.Range.Min)
		}
		if a.Range.Max != nil {
			hi = max(hi, *a.Range.Max)
		}
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.1
	lo, hi = lo-pad, hi+pad
	yOf := func(v float64) float64 {
		return padT + (hi-v)/(hi-lo)*(chartH-padT-padB)
	}
	if a.Range != nil {
		top, bot := padT, chartH-padB
		if a.Range.Max != nil {
			top = yOf(*a.Range.Max)
		}
		if a.Range.Min != nil {
			bot = yOf(*a.Range.Min)
		}
		fmt.Fprintf(b, `<rect x="%g" y="%.1f" width="%g" height="%.1f" class="band"/>`, padL, top, chartW-padL-padR, bot-top)
	}
	axis(b, from, to)
	fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="mean"/>`, padL, yOf(a.Mean), chartW-padR, yOf(a.Mean))
	pts := []struct {
		t     time.Time
		v     float64
		class string
	}{{a.MinAt, a.Min, "pmin"}, {a.MaxAt, a.Max, "pmax"}, {a.LastAt, a.Last, "plast"}}
	var path []string
	for _, p := range []int{0, 1} {
		if !pts[p].t.IsZero() {
			path = append(path, fmt.Sprintf("%.1f,%.1f", xOf(pts[p].t, from, to), yOf(pts[p].v)))
		}
	}
	for _, p := range pts {
		if p.t.IsZero() {
			continue
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" class="%s"><title>%s</title></circle>`, xOf(p.t, from, to), yOf(p.v), p.class, template.HTMLEscapeString(num(p.v, a.Unit)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// span is a stretch of the day.
type span struct{ from, to time.Time }

// timelineChart draws stretches (on battery, alarm) as red bars on the
// day's axis; now ends an open stretch.
func timelineChart(spans []span, from, to time.Time) template.HTML {
	b := open()
	y := padT + 10
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="18" class="okbar"/>`, padL, y, chartW-padL-padR)
	for _, s := range spans {
		x0, x1 := xOf(s.from, from, to), xOf(s.to, from, to)
		fmt.Fprintf(b, `<rect x="%.1f" y="%g" width="%.1f" height="18" class="badbar"/>`, x0, y, max(x1-x0, 1.5))
	}
	axis(b, from, to)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
