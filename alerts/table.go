package alerts

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/termtable"
)

// PrintTable writes alarms as a table for `roomwatch alarms`, with
// headings and texts in lang ("zh" or "en"). Times are shown in the
// time zone of their values (the caller converts them, e.g. to the
// site's zone, with In).
func PrintTable(w io.Writer, alarms []*Alarm, lang string) error {
	var t termtable.Table
	head := []string{"SEVERITY", "STATE", "SITE", "ROOM", "DEVICE", "RULE", "STARTED", "ENDED", "ACK", "VALUES", "MESSAGE", "ID"}
	if lang == "zh" {
		head = []string{"级别", "状态", "院区", "机房", "设备", "规则", "开始", "结束", "确认", "数值", "内容", "编号"}
	}
	t.Row(head...)
	for _, a := range alarms {
		ended, ack := "-", "-"
		if a.EndedAt != nil {
			ended = a.EndedAt.Format(time.DateTime)
		}
		if a.AckAt != nil {
			ack = a.AckBy + " " + a.AckAt.Format(time.DateTime)
			if a.AckVia != "" {
				ack += " (" + a.AckVia + ")"
			}
		}
		dev := shown(a.DeviceTitle, lang, a.Device)
		if dev == "" {
			dev = "-"
		}
		t.Row(a.Severity.Label(lang), a.State.Label(lang), shown(a.SiteTitle, lang, a.Site), shown(a.RoomTitle, lang, a.Room), dev, a.Rule,
			a.StartedAt.Format(time.DateTime), ended, ack, formatValues(a.Values, lang), oneLine(a.Message(lang)), a.ID)
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

// shown is a title in lang, or the name when there is none.
func shown(t collectors.Title, lang, name string) string {
	if s := t.In(lang); s != "" {
		return s
	}
	return name
}

// formatValues lists readings as "name=value unit", each named by its
// title in lang (its identifier when it has none), numbers rounded to
// one decimal.
func formatValues(vs map[string]Reading, lang string) string {
	if len(vs) == 0 {
		return "-"
	}
	type named struct{ name, title string }
	list := make([]named, 0, len(vs))
	for n, r := range vs {
		list = append(list, named{n, shown(r.Title, lang, n)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	parts := make([]string, len(list))
	for i, n := range list {
		r := vs[n.name]
		switch {
		case r.Quality != "":
			parts[i] = n.title + "=" + r.Quality
		case r.Text != "":
			parts[i] = n.title + "=" + collectors.StateTitle(r.Text).In(lang)
		default:
			parts[i] = n.title + "=" + strconv.FormatFloat(math.Round(r.Value*10)/10, 'f', -1, 64) + r.Unit
		}
	}
	return strings.Join(parts, " ")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
