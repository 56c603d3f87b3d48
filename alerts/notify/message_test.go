package notify

import (
	"fmt"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts/channels"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

// TestStormMessage: a power cut's twenty alarms are one message whose
// first line, within one SMS segment, is the worst alarm.
func TestStormMessage(t *testing.T) {
	lt, err := parseLineTemplate("")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	var items []item
	for i := range 19 {
		items = append(items, item{Key: fmt.Sprint(i), Severity: rules.Warning, Kind: KindFiring, Code: "1000",
			Text: fmt.Sprintf("一号机房 设备%d 通信中断，已持续很长时间需要尽快处理并上报值班长", i), At: start.Add(time.Duration(i) * time.Second)})
	}
	items = append(items, item{Key: "mains", Severity: rules.Critical, Kind: KindFiring, Code: "4321",
		Text: "【严重】一号机房 UPS1 市电中断，电池供电，剩余 42 分钟", At: start.Add(time.Minute)})
	m, err := render(lt, "n-1", items, Target{Key: "张三"})
	if err != nil {
		t.Fatal(err)
	}
	head := []rune(m.Text)[:HeadRunes]
	if !strings.Contains(string(head), "【严重】一号机房 UPS1 市电中断") || !strings.Contains(string(head), "另有 19 条") {
		t.Errorf("first %d characters %q: want the critical line and the count", HeadRunes, string(head))
	}
	if m.Severity != rules.Critical || !strings.HasPrefix(m.Title, "【严重】") {
		t.Errorf("severity %s title %q", m.Severity, m.Title)
	}
	if got := strings.Count(m.Text, "\n"); got != 19 {
		t.Errorf("%d lines after the head, want the other 19", got)
	}
	// One alarm: one line, its code.
	m, _ = render(lt, "n-2", items[19:], Target{Key: "张三"})
	if m.Text != `【严重】一号机房 UPS1 市电中断，电池供电，剩余 42 分钟（回复"确认 4321"）` {
		t.Errorf("single alarm: %q", m.Text)
	}
}

// TestStormWindow groups the items that arrive within the window into
// one job per person on a fake clock.
func TestStormWindow(t *testing.T) {
	c := mustParse(t, baseYAML, func(c *Config) { c.Storm.Window = 10 * time.Second })
	now := at(t, "2026-12-01 09:00:00"[:16])
	clock := now
	n, err := New(c, nil, Options{Now: func() time.Time { return clock }, Channels: map[string]channels.Channel{"sms": &fakeChannel{name: "sms"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Targets([]string{OnDutyKeyword}, now, "")
	for i := range 20 {
		n.add("main", batchItem{it: item{Key: fmt.Sprint(i), Severity: rules.Major, Kind: KindFiring}, targets: tg, ref: &msgRef{msg: nopMsg{}}})
	}
	clock = now.Add(9 * time.Second)
	n.flushDue(clock)
	if q := n.Queued()["sms"]; q != 0 {
		t.Fatalf("queued %d before the window ended", q)
	}
	clock = now.Add(10 * time.Second)
	n.flushDue(clock)
	w := n.workers["sms"]
	if len(w.q) != 1 || len(w.q[0].items) != 20 {
		t.Fatalf("after the window: %d jobs, want one of 20 items", len(w.q))
	}
}

// nopMsg stands for a JetStream message in tests that never ack it.
type nopMsg struct{ jetstream.Msg }
