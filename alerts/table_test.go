package alerts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/termtable"
)

// TestPrintTableAlignsChinese: every column starts at the same display
// column on every line, with Chinese titles, states and messages (two
// columns a character) beside ASCII names.
func TestPrintTableAlignsChinese(t *testing.T) {
	at := time.Date(2026, 11, 25, 11, 15, 3, 0, time.UTC)
	end := at.Add(5 * time.Minute)
	alarms := []*Alarm{
		{ID: OccurrenceID("fp-temp", at), Rule: "room-temperature-high", Severity: Major, State: Firing, Site: "main", Room: "dc1", Device: "th1",
			StartedAt: at, Values: map[string]Reading{"temperature_c": {Value: 28.4, Unit: "°C"}},
			Text: map[string]string{"zh": "【重要】总院 一号机房 温度 28.4°C 过高"}},
		{ID: OccurrenceID("fp-ups", at), Rule: "ups-on-battery", Severity: Critical, State: Resolved, Site: "branch-2", Room: "弱电间", Device: "ups-main-01",
			StartedAt: at, EndedAt: &end, AckBy: "张三", AckAt: &end,
			Text: map[string]string{"zh": "【严重】UPS 电池供电"}},
		{ID: OccurrenceID("fp-door", at), Rule: "door-open", Severity: Warning, State: Acknowledged, Site: "main", Room: "dc1",
			StartedAt: at, Text: map[string]string{"zh": "门开"}},
	}
	var b strings.Builder
	if err := PrintTable(&b, alarms, "zh"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a heading and 3 rows:\n%s", b.String())
	}
	// The display columns where each cell starts, on each line.
	starts := func(line string) []int {
		var out []int
		col, prevSpace := 0, 2
		for _, r := range line {
			if r != ' ' && prevSpace >= 2 {
				out = append(out, col)
			}
			if r == ' ' {
				prevSpace++
			} else {
				prevSpace = 0
			}
			col += termtable.Width(string(r))
		}
		return out
	}
	head := starts(lines[0])
	if len(head) != 12 { // … 内容, 编号 (the id `roomwatch ack` takes)
		t.Fatalf("heading has %d columns: %q", len(head), lines[0])
	}
	for _, l := range lines[1:] {
		// Cells hold single spaces (dates, values); a cell starts after
		// two or more.
		got := starts(l)
		for i, c := range head {
			if !slices.Contains(got, c) {
				t.Errorf("column %d starts at %d in the heading but not in\n%s\n%s\n(starts %v, heading %v)", i, c, lines[0], l, got, head)
				break
			}
		}
	}
	for _, want := range []string{"重要", "告警中", "已恢复", "已确认", "弱电间", "张三 2026-11-25 11:20:03"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPrintTableShowsTitles: sites, rooms, devices and values are shown by
// their titles in the table's language, not by their codes.
func TestPrintTableShowsTitles(t *testing.T) {
	at := time.Date(2026, 11, 25, 11, 15, 3, 0, time.UTC)
	a := &Alarm{Rule: "room-temperature-high", Severity: Major, State: Firing, Site: "demo", Room: "net1", Device: "th1",
		SiteTitle: collectors.Title{Zh: "演示医院", En: "Demo hospital"}, RoomTitle: collectors.Title{Zh: "网络间", En: "Switch room"},
		DeviceTitle: collectors.Title{Zh: "温湿度 1", En: "T/H 1"}, StartedAt: at,
		Values: map[string]Reading{"temperature_c": {Value: 28.44, Unit: "°C", Title: collectors.Title{Zh: "温度", En: "temperature"}},
			"battery_status": {Value: 3, Text: "low"}},
		Text: map[string]string{"zh": "【重要】网络间 温度过高", "en": "[MAJOR] Switch room temperature high"}}
	for lang, want := range map[string][]string{
		"zh": {"演示医院", "网络间", "温湿度 1", "温度=28.4°C", "battery_status=电量低"},
		"en": {"Demo hospital", "Switch room", "T/H 1", "temperature=28.4°C", "battery_status=low"},
	} {
		var b strings.Builder
		if err := PrintTable(&b, []*Alarm{a}, lang); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s table lacks %q:\n%s", lang, w, b.String())
			}
		}
		for _, code := range []string{" demo ", " net1 ", " th1 ", "temperature_c"} {
			if strings.Contains(b.String(), code) {
				t.Errorf("%s table shows the code %q:\n%s", lang, code, b.String())
			}
		}
	}
}
