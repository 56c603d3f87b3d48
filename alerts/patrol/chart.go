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
// value's statistics per local hour, not a series: an analog chart shows
// the acceptable band, each hour's min–max and mean on the day's curve,
// and the hours out of the band. Records written before they kept hours
// give the day's minimum, maximum and latest values at their times and
// the mean. A timeline shows stretches (on battery) across the day.

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

// analogChart draws a value's day: from its hours when the record has
// them (hourlyChart), else band, min, max, latest and mean.
func analogChart(a *daily.Analog, from, to time.Time) template.HTML {
	if hasHours(a) {
		return hourlyChart(a, from, to)
	}
	b := open()
	yOf := yScale(a)
	band(b, a, yOf)
	axis(b, from, to)
	fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="mean"/>`, padL, yOf(a.Mean), chartW-padR, yOf(a.Mean))
	pts := []struct {
		t     time.Time
		v     float64
		class string
	}{{a.MinAt, a.Min, "pmin"}, {a.MaxAt, a.Max, "pmax"}, {a.LastAt, a.Last, "plast"}}
	for _, p := range pts {
		if p.t.IsZero() {
			continue
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" class="%s"><title>%s</title></circle>`, xOf(p.t, from, to), yOf(p.v), p.class, template.HTMLEscapeString(num(p.v, a.Unit)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// analogNote is the i18n key of the caption under analogChart's drawing.
func analogNote(a *daily.Analog) string {
	if hasHours(a) {
		return "chart_hourly"
	}
	return "chart_stats_only"
}

// hasHours reports whether the record keeps a's hours (records written
// before they existed do not).
func hasHours(a *daily.Analog) bool {
	if len(a.Hours) != 24 {
		return false
	}
	for _, h := range a.Hours {
		if h != nil && h.Count > 0 {
			return true
		}
	}
	return false
}

// yScale maps a value to the chart's y, the day's extremes and the
// acceptable band in view.
func yScale(a *daily.Analog) func(float64) float64 {
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
	return func(v float64) float64 {
		return padT + (hi-v)/(hi-lo)*(chartH-padT-padB)
	}
}

// band shades a's acceptable band, if it has one.
func band(b *strings.Builder, a *daily.Analog, yOf func(float64) float64) {
	if a.Range == nil {
		return
	}
	top, bot := padT, chartH-padB
	if a.Range.Max != nil {
		top = yOf(*a.Range.Max)
	}
	if a.Range.Min != nil {
		bot = yOf(*a.Range.Min)
	}
	fmt.Fprintf(b, `<rect x="%g" y="%.1f" width="%g" height="%.1f" class="band"/>`, padL, top, chartW-padL-padR, bot-top)
}

// hourlyChart draws a value's day from its 24 local hours: the
// acceptable band shaded, each hour out of it shaded red, each hour's
// min–max as a bar and its mean as a point on the day's curve (broken
// where an hour has no reading).
func hourlyChart(a *daily.Analog, from, to time.Time) template.HTML {
	b := open()
	yOf := yScale(a)
	colW := (chartW - padL - padR) / 24
	xAt := func(h int) float64 { return padL + (float64(h)+0.5)*colW }
	out := func(h *daily.Hour) bool {
		return a.Range != nil && (!a.Range.Contains(h.Min) || !a.Range.Contains(h.Max))
	}
	band(b, a, yOf)
	for i, h := range a.Hours {
		if h != nil && h.Count > 0 && out(h) {
			fmt.Fprintf(b, `<rect x="%.1f" y="%g" width="%.1f" height="%g" class="hout"/>`, padL+float64(i)*colW, padT, colW, chartH-padT-padB)
		}
	}
	axis(b, from, to)
	var line []string
	flush := func() {
		if len(line) > 0 {
			fmt.Fprintf(b, `<polyline points="%s" class="curve"/>`, strings.Join(line, " "))
			line = line[:0]
		}
	}
	for i, h := range a.Hours {
		if h == nil || h.Count == 0 {
			flush()
			continue
		}
		x := xAt(i)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="hrange"/>`, x, yOf(h.Max), x, yOf(h.Min))
		line = append(line, fmt.Sprintf("%.1f,%.1f", x, yOf(h.Mean)))
	}
	flush()
	for i, h := range a.Hours {
		if h == nil || h.Count == 0 {
			continue
		}
		class := "ph"
		if out(h) {
			class = "ph out"
		}
		title := fmt.Sprintf("%02d:00–%02d:00 %s (%s – %s)", i, i+1, num(h.Mean, a.Unit), num(h.Min, ""), num(h.Max, a.Unit))
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="1.8" class="%s" data-hour="%d"><title>%s</title></circle>`, xAt(i), yOf(h.Mean), class, i, template.HTMLEscapeString(title))
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
