package rules

import (
	"math"
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
	// Site, Room, Device are titles in the message's language.
	Site, Room, Device string
	// Value is the rule's main figure, formatted: the sample value, or
	// for rate the change per minute, for stuck the hours unchanged, for
	// nodata the failed polls, for disagree the spread.
	Value string
	// Unit is the main value's unit.
	Unit string
	// Threshold is the main limit, formatted (room overrides applied).
	Threshold string
	// Values and Thresholds hold every carried value and limit,
	// formatted, by name.
	Values     map[string]string
	Thresholds map[string]string
	// Minutes since the condition began.
	Minutes int
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

// render fills in.a.Text for the alert's current state.
func (e *Engine) render(now time.Time, in *instance) {
	c := in.cr
	text := make(map[string]string, 2)
	for _, lang := range []string{LangZh, LangEn} {
		d := MessageData{Rule: c.r.Name, Severity: in.a.Severity.Label(lang),
			Values: map[string]string{}, Thresholds: map[string]string{}}
		d.Site, d.Room, d.Device = in.a.Labels[LabelSite], in.a.Labels[LabelRoom], in.a.Labels[LabelDevice]
		if re := in.room; re != nil {
			d.Site = title(re.title, lang, d.Site)
			if re.room != nil {
				d.Room = title(re.room.Title, lang, d.Room)
			}
		}
		if in.dev != nil && in.dev.info != nil {
			d.Device = title(in.dev.info.Title, lang, d.Device)
		}
		if in.hasPrimary {
			d.Value, d.Unit = fmtValue(in.primary), in.primary.Unit
		}
		if in.hasFigure {
			d.Value = fmtNum(in.figure)
		}
		if c.hasThr {
			d.Threshold = fmtNum(in.threshold)
		}
		for k, v := range in.a.Values {
			d.Values[k] = fmtValue(v)
		}
		for k, v := range in.a.Thresholds {
			d.Thresholds[k] = fmtNum(v)
		}
		if !in.a.ActiveAt.IsZero() {
			d.Minutes = int(now.Sub(in.a.ActiveAt) / time.Minute)
		}
		var b strings.Builder
		b.WriteString(prefix(lang, in.a.State, in.a.Severity))
		t := c.tmpl[lang]
		if rt := c.tmpl["resolved_"+lang]; rt != nil && in.a.State == Inactive {
			t = rt
		}
		if err := t.Execute(&b, d); err != nil {
			e.log.Warn("rule message cannot be rendered", "rule", c.r.Name, "lang", lang, "err", err)
		}
		text[lang] = b.String()
	}
	in.a.Text = text
}

// fmtNum prints a number rounded to one decimal, without trailing zeros.
func fmtNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func fmtValue(v collectors.Value) string {
	switch x := v.Any().(type) {
	case float64:
		return fmtNum(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return ""
}
