package notify

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/termtable"
	"github.com/roomwatch/roomwatch/rules"
)

// PrintWho writes who would be told of an alarm of site, room and sev
// raised at at, level by level, and why (`roomwatch notify who`).
func PrintWho(w io.Writer, c *Config, site, room string, sev rules.Severity, at time.Time) error {
	at = at.In(c.Location())
	fmt.Fprintf(w, "%s %s 机房 %s 的%s告警：\n", at.Format("2006-01-02 15:04 (Mon)"), site, room, sev.Label("zh"))
	r := c.Match(site, room, sev, at)
	if r == nil {
		fmt.Fprintln(w, "没有匹配的路由：不通知任何人")
		return nil
	}
	var tab termtable.Table
	tab.Row("级别", "延时", "时间", "接收人", "职务", "地址", "渠道", "原因")
	for i, l := range r.Levels {
		when := at.Add(l.After)
		targets := c.Targets(l.To, when, fmt.Sprintf("路由 %s 第%d级", r.Name, i+1))
		if len(targets) == 0 {
			tab.Row(strconv.Itoa(i+1), l.After.String(), when.Format("15:04"), "（无人）", "-", "-", "-", fmt.Sprintf("路由 %s 第%d级：值班表此时无人", r.Name, i+1))
		}
		for _, t := range targets {
			name := t.Key
			if t.Group {
				name = "群 " + t.Key
			}
			tab.Row(strconv.Itoa(i+1), l.After.String(), when.Format("15:04"), name, dash(t.Title),
				t.Address(), strings.Join(t.Channels, ","), t.Why)
		}
	}
	if _, err := tab.WriteTo(w); err != nil {
		return err
	}
	if sev == rules.Critical && r.Repeat != nil && *r.Repeat > 0 {
		fmt.Fprintf(w, "严重告警未确认时每 %v 重复一次，直到确认或恢复。\n", *r.Repeat)
	}
	if q := c.QuietHours; q != nil && contains(sevStrings(q.Severities), string(sev)) && q.span.Contains(at) {
		fmt.Fprintf(w, "注意：此时处于免打扰时段 %s，%s告警延后到 %s 发送。\n", q.span, sev.Label("zh"), q.span.End(at).Format("15:04"))
	}
	return nil
}
