package alerts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/termtable"
)

// TestPrintTableAlignsChinese: every column starts at the same display
// column on every line, with Chinese titles, states and messages (two
// columns a character) beside ASCII names.
func TestPrintTableAlignsChinese(t *testing.T) {
	at := time.Date(2026, 11, 25, 11, 15, 3, 0, time.UTC)
	end := at.Add(5 * time.Minute)
	alarms := []*Alarm{
		{Rule: "room-temperature-high", Severity: Major, State: Firing, Site: "main", Room: "dc1", Device: "th1",
			StartedAt: at, Values: map[string]Reading{"temperature_c": {Value: 28.4, Unit: "°C"}},
			Text: map[string]string{"zh": "【重要】总院 一号机房 温度 28.4°C 过高"}},
		{Rule: "ups-on-battery", Severity: Critical, State: Resolved, Site: "branch-2", Room: "弱电间", Device: "ups-main-01",
			StartedAt: at, EndedAt: &end, AckBy: "张三", AckAt: &end,
			Text: map[string]string{"zh": "【严重】UPS 电池供电"}},
		{Rule: "door-open", Severity: Warning, State: Acknowledged, Site: "main", Room: "dc1",
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
	if len(head) != 11 {
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
