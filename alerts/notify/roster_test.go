package notify

import (
	"github.com/roomwatch/roomwatch/rules"
	"strings"
	"testing"
)

func TestRosterOnDuty(t *testing.T) {
	c := mustParse(t, baseYAML)
	for _, tc := range []struct {
		name, at, want, why string
	}{
		{"weekday day shift", "2026-12-01 09:30", "张三", "2026-12-01 白班"},
		{"weekday night shift", "2026-12-01 21:00", "李四", "2026-12-01 夜班"},
		// Tuesday 03:00 is still Monday's night shift.
		{"night shift after midnight belongs to the day before", "2026-12-01 03:00", "李四", "2026-11-30 夜班"},
		// Saturday 07:59 is Friday's night shift; 08:00 Saturday's day shift.
		{"friday night into saturday", "2026-12-05 07:59", "李四", "2026-12-04 夜班"},
		{"saturday day", "2026-12-05 08:00", "李四", "2026-12-05 白班"},
		{"holiday", "2026-10-02 10:00", "王主任", "2026-10-02（节假日） 白班"},
		// 2026-10-08 02:00 is the night of the 7th, still a holiday.
		{"holiday night into a working day", "2026-10-08 02:00", "王主任", "2026-10-07（节假日） 夜班"},
		{"date override", "2026-12-24 23:00", "赵院长", "2026-12-24（特定日期） 夜班"},
		{"date override keeps the other shift", "2026-12-24 10:00", "张三", "2026-12-24 白班"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			people, why := c.Roster.OnDuty(at(t, tc.at))
			if got := strings.Join(people, ","); got != tc.want {
				t.Errorf("on duty %s, want %s (%s)", got, tc.want, why)
			}
			if !strings.Contains(why, tc.why) {
				t.Errorf("why %q, want it to say %q", why, tc.why)
			}
		})
	}
}

func TestRoutesAndGroups(t *testing.T) {
	c := mustParse(t, baseYAML+`
  - name: never
    levels: [{after: 0s, to: [机房组]}]
`, func(c *Config) {
		// A room-specific route first: critical alarms of dc1 go to the group.
		c.Routes = append([]Route{{Name: "dc1", Rooms: []string{"dc1"}, Severities: []rules.Severity{rules.Critical}, Hours: "22:00-06:00",
			Levels: []Level{{To: []string{"机房组", OnDutyKeyword}}}}}, c.Routes...)
	})
	r := c.Match("main", "dc1", "critical", at(t, "2026-12-01 23:00"))
	if r == nil || r.Name != "dc1" {
		t.Fatalf("route %v, want dc1", r)
	}
	if got := names(c.Targets(r.Levels[0].To, at(t, "2026-12-01 23:00"), "")); got != "张三,李四" {
		t.Errorf("targets %s, want 张三,李四 (李四 once)", got)
	}
	if r := c.Match("main", "dc1", "critical", at(t, "2026-12-01 12:00")); r == nil || r.Name != "all" {
		t.Errorf("outside the route's hours: %v, want all", r)
	}
	if r := c.Match("main", "dc1", "major", at(t, "2026-12-01 23:00")); r == nil || r.Name != "all" {
		t.Errorf("major: %v, want all", r)
	}
}

// TestRosterPublicHolidays: the rules' built-in public holidays give the
// holiday duty (National Day 2026).
func TestRosterPublicHolidays(t *testing.T) {
	c := mustParse(t, strings.Replace(baseYAML, `calendar: {weekdays: [mon..fri], holidays: ["2026-10-01..2026-10-07"]}`, `calendar: {weekdays: [mon..fri], public_holidays: true}`, 1))
	if people, why := c.Roster.OnDuty(at(t, "2026-10-05 10:00")); strings.Join(people, ",") != "王主任" {
		t.Errorf("2026-10-05: %v (%s), want the holiday duty 王主任", people, why)
	}
}
