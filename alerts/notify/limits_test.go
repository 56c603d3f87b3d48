package notify

import (
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

// TestLimiter: 20 a minute in any sliding minute.
func TestLimiter(t *testing.T) {
	r, err := ParseRate("20/min")
	if err != nil || r != (Rate{20, time.Minute}) {
		t.Fatalf("ParseRate: %v %v", r, err)
	}
	l := NewLimiter(r)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sent := 0
	for s := 0; s < 150; s++ { // try every second for 150 s, twice a second
		for range 2 {
			now := t0.Add(time.Duration(s) * time.Second)
			if l.Wait(now) == 0 {
				l.Take(now)
				sent++
			}
		}
	}
	if sent != 60 { // 20 at 0 s, 20 at 60 s, 20 at 120 s
		t.Errorf("sent %d in 150 s, want 60", sent)
	}
	if w := l.Wait(t0.Add(150 * time.Second)); w != 30*time.Second {
		t.Errorf("wait %v, want 30s", w)
	}
	for _, bad := range []string{"20", "x/min", "0/min", "5/fortnight"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q): no error", bad)
		}
	}
}

// TestQueueOrder: a channel's queue sends critical first, then by age,
// within its rate; per-person limits hold back only non-critical sends.
func TestQueueOrder(t *testing.T) {
	c := mustParse(t, baseYAML, func(c *Config) { c.PerPerson = "2/h" })
	clock := at(t, "2026-12-01 09:00")
	n, err := New(c, nil, Options{Now: func() time.Time { return clock }}, nil)
	if err == nil {
		t.Fatal("New without the test channel must fail to build kind test")
	}
	n, _ = New(c, nil, Options{Now: func() time.Time { return clock }, Channels: testChans("sms")}, nil)
	w := n.workers["sms"]
	w.lim = NewLimiter(Rate{2, time.Minute})
	zs := Target{Key: "张三"}
	for _, sev := range []rules.Severity{rules.Warning, rules.Major, rules.Critical, rules.Warning, rules.Critical} {
		w.push(&job{target: zs, items: []item{{Severity: sev}}})
	}
	var order []int
	for {
		j, _ := w.pick(clock)
		if j == nil {
			break
		}
		order = append(order, j.prio)
	}
	if len(order) != 2 || order[0] != 4 || order[1] != 4 {
		t.Fatalf("first minute sent %v, want the two critical", order)
	}
	clock = clock.Add(time.Minute)
	j, _ := w.pick(clock)
	if j == nil || j.prio != 3 {
		t.Fatalf("next: %v, want the major", j)
	}
	j, _ = w.pick(clock)
	if j == nil || j.prio != 1 {
		t.Fatalf("next: %v, want a warning", j)
	}
	// 张三 has had 2 non-critical messages this hour; the last warning waits.
	clock = clock.Add(2 * time.Minute)
	if j, wait := w.pick(clock); j != nil || wait < 50*time.Minute {
		t.Fatalf("per-person limit: got %v, wait %v", j, wait)
	}
}

// TestQuietHours: warnings wait until the quiet hours end; critical never.
func TestQuietHours(t *testing.T) {
	c := mustParse(t, baseYAML+`quiet_hours: {hours: "22:00-07:00"}
`)
	n := &Notifier{cfg: c}
	for _, tc := range []struct {
		at   string
		sev  rules.Severity
		want time.Duration
	}{
		{"2026-12-01 23:00", rules.Warning, 8 * time.Hour},
		{"2026-12-02 06:30", rules.Warning, 30 * time.Minute},
		{"2026-12-02 07:00", rules.Warning, 0},
		{"2026-12-01 23:00", rules.Critical, 0},
		{"2026-12-01 23:00", rules.Major, 0},
	} {
		if got := n.quietWait(tc.sev, at(t, tc.at)); got != tc.want {
			t.Errorf("%s %s: wait %v, want %v", tc.at, tc.sev, got, tc.want)
		}
	}
	if _, err := parse(t, baseYAML+`quiet_hours: {hours: "22:00-07:00", severities: [critical]}
`); err == nil {
		t.Error("quiet hours for critical alarms accepted")
	}
}
