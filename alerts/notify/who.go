package notify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "级别\t延时\t时间\t接收人\t职务\t地址\t渠道\t原因")
	for i, l := range r.Levels {
		when := at.Add(l.After)
		targets := c.Targets(l.To, when, fmt.Sprintf("路由 %s 第%d级", r.Name, i+1))
		if len(targets) == 0 {
			fmt.Fprintf(tw, "%d\t%v\t%s\t（无人）\t-\t-\t-\t路由 %s 第%d级：值班表此时无人\n", i+1, l.After, when.Format("15:04"), r.Name, i+1)
		}
		for _, t := range targets {
			name := t.Key
			if t.Group {
				name = "群 " + t.Key
			}
			fmt.Fprintf(tw, "%d\t%v\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, l.After, when.Format("15:04"), name, dash(t.Title),
				t.Address(), strings.Join(t.Channels, ","), t.Why)
		}
	}
	if err := tw.Flush(); err != nil {
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
