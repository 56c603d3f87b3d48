package rules

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// MessageData is what message templates see.
type MessageData struct {
	// Rule is the rule's name.
	Rule string
	// Severity is the severity label in the message's language.
	Severity string
	// Site, Room, Device are titles in the message's language. A device
	// title that begins or ends with its room's title is shown without it
	// ("网络间 UPS" in room 网络间 is UPS), so "{{.Room}} {{.Device}}" never
	// names the room twice.
	Site, Room, Device string
	// Value is the rule's main figure, formatted: the sample value, or
	// for rate the change per minute, for stuck the hours unchanged, for
	// nodata the failed polls, for disagree the spread.
	Value string
	// Unit is the main value's unit.
	Unit string
	// Name is the main value's display name (温度, temperature).
	Name string
	// Current is the main value as last read, with its unit, for people
	// (25.3°C, 45 分钟; 25.3 °C, 45 min): what a recovery message shows.
	Current string
	// Threshold is the main limit, formatted (room overrides applied).
	Threshold string
	// Values and Thresholds hold every carried value and limit,
	// formatted, by name; Names the values' display names and Readings
	// the values with their units, by name.
	Values     map[string]string
	Thresholds map[string]string
	Names      map[string]string
	Readings   map[string]string
	// Summary lists the carried values as "name reading" (湿度 45%、温度
	// 23°C); Faults lists the display names of those at sensor fault.
	Summary, Faults string
	// Minutes since the condition began; Lasted is the same time for
	// people (12 分钟, 2 小时 5 分钟; 12 min, 2 h 5 min).
	Minutes int
	Lasted  string
}

var prefixes = map[string]map[State]string{
	LangZh: {Pending: "【待定】", Inactive: "【恢复】"},
	LangEn: {Pending: "[PENDING] ", Inactive: "[RESOLVED] "},
}

func prefix(lang string, s State, sev Severity) string {
	if s == Firing {
		if lang == LangZh {
			return "【" + sev.Label(lang) + "】"
		}
		return "[" + sev.Label(lang) + "] "
	}
	return prefixes[lang][s]
}

func title(t map[string]string, lang, fallback string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return fallback
}

// alertTitles returns the display names of the alert's site, room and device,
// and of its values.
func (e *Engine) alertTitles(in *instance) (map[string]collectors.Title, map[string]collectors.Title) {
	l := in.labels()
	where := map[string]collectors.Title{}
	for _, k := range []string{LabelSite, LabelRoom, LabelDevice} {
		where[k] = collectors.Title{Zh: l[k], En: l[k]}
	}
	if re := in.room; re != nil {
		where[LabelSite] = titleOf(re.title, l[LabelSite])
		if re.room != nil {
			where[LabelRoom] = titleOf(re.room.Title, l[LabelRoom])
		}
	}
	if in.dev != nil && in.dev.info != nil {
		where[LabelDevice] = titleOf(in.dev.info.Title, l[LabelDevice])
	}
	if l[LabelDevice] == "" {
		delete(where, LabelDevice)
	}
	vals := make(map[string]collectors.Title, len(in.a.Values)+1)
	add := func(name string) {
		if _, ok := vals[name]; ok || name == "" {
			return
		}
		dev, value, wide := strings.Cut(name, ".")
		if !wide {
			vals[name] = e.titles(l[LabelProfile], name)
			return
		}
		// A room-wide rule's "device.value": the device's title and the
		// value's.
		dt := collectors.Title{Zh: dev, En: dev}
		profile := ""
		if in.room != nil && in.room.room != nil {
			for _, d := range in.room.room.Devices {
				if d.Device.Name == dev {
					dt, profile = titleOf(d.Title, dev), d.Device.Profile
				}
			}
		}
		vt := e.titles(profile, value)
		vals[name] = collectors.Title{Zh: dt.Zh + " " + vt.Zh, En: dt.En + " " + vt.En}
	}
	add(in.cr.primary)
	for k := range in.a.Values {
		add(k)
	}
	return where, vals
}

func titleOf(t map[string]string, name string) collectors.Title {
	return collectors.Title{Zh: title(t, LangZh, name), En: title(t, LangEn, name)}
}

// render fills in in.a.Text, Titles and ValueTitles for the alert's
// current state.
func (e *Engine) render(now time.Time, in *instance) {
	c := in.cr
	where, vtitles := e.alertTitles(in)
	in.a.Titles, in.a.ValueTitles = where, vtitles
	order := valueOrder(c, in.a.Values)
	text := make(map[string]string, 2)
	for _, lang := range []string{LangZh, LangEn} {
		d := MessageData{Rule: c.r.Name, Severity: in.a.Severity.Label(lang),
			Values: map[string]string{}, Thresholds: map[string]string{},
			Names: map[string]string{}, Readings: map[string]string{}}
		d.Site, d.Room = where[LabelSite].In(lang), where[LabelRoom].In(lang)
		d.Device = withoutRoom(where[LabelDevice].In(lang), d.Room)
		d.Name = vtitles[c.primary].In(lang)
		if in.hasPrimary {
			d.Value, d.Unit = fmtValue(in.primary, lang), in.primary.Unit
			d.Current = readingText(in.primary, lang)
		}
		if in.hasFigure {
			d.Value = fmtNum(in.figure)
		}
		if c.hasThr {
			d.Threshold = fmtNum(in.threshold)
		}
		var summary, faults []string
		for _, k := range order {
			v := in.a.Values[k]
			d.Values[k] = fmtValue(v, lang)
			d.Names[k] = vtitles[k].In(lang)
			d.Readings[k] = readingText(v, lang)
			summary = append(summary, d.Names[k]+" "+d.Readings[k])
			if v.Quality == collectors.SensorFault {
				faults = append(faults, d.Names[k])
			}
		}
		sep := ", "
		if lang == LangZh {
			sep = "、"
		}
		d.Summary, d.Faults = strings.Join(summary, sep), strings.Join(faults, sep)
		for k, v := range in.a.Thresholds {
			d.Thresholds[k] = fmtNum(v)
		}
		if !in.a.ActiveAt.IsZero() {
			d.Minutes = int(now.Sub(in.a.ActiveAt) / time.Minute)
			d.Lasted = fmtDuration(now.Sub(in.a.ActiveAt), lang)
		}
		var b strings.Builder
		t := c.tmpl[lang]
		if rt := c.tmpl["resolved_"+lang]; rt != nil && in.a.State == Inactive {
			t = rt
		}
		if err := t.Execute(&b, d); err != nil {
			e.log.Warn("rule message cannot be rendered", "rule", c.r.Name, "lang", lang, "err", err)
		}
		text[lang] = prefix(lang, in.a.State, in.a.Severity) + tidy(b.String())
	}
	in.a.Text = text
}

// valueOrder lists the names of vals: the rule's own values first, in
// its order, then the others sorted.
func valueOrder(c *crule, vals map[string]collectors.Value) []string {
	out := make([]string, 0, len(vals))
	for _, n := range c.names {
		if _, ok := vals[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for k := range vals {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// withoutRoom returns a device title without the room title it begins or
// ends with ("网络间 UPS" in 网络间 → "UPS"); a title that is nothing
// but the room's becomes empty.
func withoutRoom(dev, room string) string {
	if room == "" || dev == "" {
		return dev
	}
	const seps = " \t-_/·:：|"
	switch {
	case dev == room:
		return ""
	case strings.HasPrefix(dev, room):
		if rest := strings.TrimLeft(dev[len(room):], seps); rest != "" {
			return rest
		}
	case strings.HasSuffix(dev, room):
		if rest := strings.TrimRight(dev[:len(dev)-len(room)], seps); rest != "" {
			return rest
		}
	}
	return dev
}

// tidy cleans a rendered text of what empty fields leave: runs of
// spaces, empty brackets, a bracket opening on a comma.
func tidy(s string) string {
	for _, r := range [][2]string{{"（，", "（"}, {"(, ", "("}, {"（）", ""}, {"()", ""}, {" ）", "）"}, {" )", ")"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return strings.Join(strings.Fields(s), " ")
}

// fmtNum prints a number rounded to one decimal, without trailing zeros.
func fmtNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// fmtValue prints a value without its unit; an enumeration label is
// shown by its display name in lang.
func fmtValue(v collectors.Value, lang string) string {
	switch x := v.Any().(type) {
	case float64:
		return fmtNum(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		if v.Kind == collectors.Enum {
			return collectors.StateTitle(x).In(lang)
		}
		return x
	}
	return ""
}

// readingText prints a value as people read it in lang: number and unit
// (25.3°C, 45 分钟; 25.3 °C, 45 min), yes or no, a state's name, or
// "invalid" when it could not be read.
func readingText(v collectors.Value, lang string) string {
	zh := lang == LangZh
	switch {
	case v.Quality == collectors.SensorFault && zh:
		return "读数无效"
	case v.Quality == collectors.SensorFault:
		return "invalid"
	case v.Quality == collectors.CommsLost && zh:
		return "无应答"
	case v.Quality == collectors.CommsLost:
		return "no answer"
	}
	switch v.Kind {
	case collectors.Bool:
		on := v.Num != 0
		switch {
		case zh && on:
			return "是"
		case zh:
			return "否"
		case on:
			return "yes"
		}
		return "no"
	case collectors.Enum, collectors.Text:
		return fmtValue(v, lang)
	}
	return fmtNum(v.Num) + unitText(v.Unit, lang)
}

// unitText is how a unit follows a number in lang: "°C" and "%" close
// up, Chinese words for time units in zh, a space before anything else.
func unitText(unit, lang string) string {
	switch unit {
	case "":
		return ""
	case "°C", "%":
		if lang == LangZh {
			return unit
		}
	}
	if lang == LangZh {
		switch unit {
		case "min":
			return " 分钟"
		case "s":
			return " 秒"
		case "h":
			return " 小时"
		}
	}
	return " " + unit
}

// fmtDuration prints d for people in lang, to the minute (to the second
// under a minute): 45 秒, 12 分钟, 2 小时 5 分钟, 3 天 4 小时. It rounds to
// the second first, so that 59.6 s is 1 分钟, as 60.2 s is, not 60 秒.
func fmtDuration(d time.Duration, lang string) string {
	d = max(d, 0).Round(time.Second)
	u := map[string][4]string{LangZh: {" 秒", " 分钟", " 小时", " 天"}, LangEn: {" s", " min", " h", " d"}}[lang]
	if u[0] == "" {
		u = [4]string{" s", " min", " h", " d"}
	}
	n := func(x int64, unit string) string { return strconv.FormatInt(x, 10) + unit }
	switch {
	case d < time.Minute:
		return n(int64(d/time.Second), u[0])
	case d < time.Hour:
		return n(int64(d/time.Minute), u[1])
	case d < 48*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if m == 0 {
			return n(h, u[2])
		}
		return n(h, u[2]) + " " + n(m, u[1])
	}
	days, h := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return n(days, u[3])
	}
	return n(days, u[3]) + " " + n(h, u[2])
}
