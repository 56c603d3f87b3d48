package alerts

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/termtable"
)

// PrintTable writes alarms as a table for `roomwatch alarms`, with
// headings and texts in lang ("zh" or "en"). Times are shown in the
// time zone of their values (the caller converts them, e.g. to the
// site's zone, with In).
func PrintTable(w io.Writer, alarms []*Alarm, lang string) error {
	var t termtable.Table
	head := []string{"SEVERITY", "STATE", "SITE", "ROOM", "DEVICE", "RULE", "STARTED", "ENDED", "ACK", "VALUES", "MESSAGE"}
	if lang == "zh" {
		head = []string{"级别", "状态", "院区", "机房", "设备", "规则", "开始", "结束", "确认", "数值", "内容"}
	}
	t.Row(head...)
	for _, a := range alarms {
		ended, ack := "-", "-"
		if a.EndedAt != nil {
			ended = a.EndedAt.Format(time.DateTime)
		}
		if a.AckAt != nil {
			ack = a.AckBy + " " + a.AckAt.Format(time.DateTime)
		}
		dev := a.Device
		if dev == "" {
			dev = "-"
		}
		t.Row(a.Severity.Label(lang), a.State.Label(lang), a.Site, a.Room, dev, a.Rule,
			a.StartedAt.Format(time.DateTime), ended, ack, formatValues(a.Values), oneLine(a.Message(lang)))
	}
	if _, err := t.WriteTo(w); err != nil {
		return err
	}
	if len(alarms) == 0 {
		none := "(no alarms)"
		if lang == "zh" {
			none = "（无告警）"
		}
		_, err := fmt.Fprintln(w, none)
		return err
	}
	return nil
}

// WriteJSON writes alarms as one JSON array of alarm messages (the form
// of `roomwatch alarms --json`), indented.
func WriteJSON(w io.Writer, alarms []*Alarm) error {
	if alarms == nil {
		alarms = []*Alarm{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(alarms)
}

// In returns copies of alarms with their times in loc.
func In(alarms []*Alarm, loc *time.Location) []*Alarm {
	out := make([]*Alarm, len(alarms))
	for i, a := range alarms {
		c := a.Clone()
		c.ActiveAt, c.StartedAt, c.UpdatedAt = c.ActiveAt.In(loc), c.StartedAt.In(loc), c.UpdatedAt.In(loc)
		if c.EndedAt != nil {
			*c.EndedAt = c.EndedAt.In(loc)
		}
		if c.AckAt != nil {
			*c.AckAt = c.AckAt.In(loc)
		}
		out[i] = c
	}
	return out
}

// Label returns the state as people read it in lang: 告警中/已确认/已恢复
// in Chinese, the state name otherwise.
func (s State) Label(lang string) string {
	if lang == "zh" {
		switch s {
		case Firing:
			return "告警中"
		case Acknowledged:
			return "已确认"
		case Resolved:
			return "已恢复"
		}
	}
	return string(s)
}

func formatValues(vs map[string]Reading) string {
	if len(vs) == 0 {
		return "-"
	}
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		r := vs[n]
		switch {
		case r.Quality != "":
			parts[i] = n + "=" + r.Quality
		case r.Text != "":
			parts[i] = n + "=" + r.Text
		default:
			parts[i] = n + "=" + fmt.Sprintf("%g", r.Value) + r.Unit
		}
	}
	return strings.Join(parts, " ")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
