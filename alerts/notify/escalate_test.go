package notify

import (
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

// TestEscalationChain walks an unacknowledged alarm up its chain on a
// fake clock: repeats of a critical alarm every 5 minutes at its level,
// the next level at 10 and 30 minutes, nothing after acknowledgement.
func TestEscalationChain(t *testing.T) {
	c := mustParse(t, baseYAML)
	start := at(t, "2026-12-01 09:00")
	r := c.Match("main", "dc1", rules.Critical, start)
	p := &pending{Severity: rules.Critical, Started: start, LastAt: start, Route: r.Name}
	type want struct {
		at   time.Duration
		kind string
		lvl  int
		rep  int
	}
	var got []want
	for m := time.Duration(0); m <= 45*time.Minute; m += 30 * time.Second {
		now := start.Add(m)
		if s, due := nextStep(p, r, now); due {
			got = append(got, want{m, s.Kind, s.Level, s.Repeat})
			advance(p, s, now, nil)
		}
	}
	wants := []want{
		{5 * time.Minute, KindRepeat, 0, 1},
		{10 * time.Minute, KindEscalation, 1, 0},
		{15 * time.Minute, KindRepeat, 1, 1},
		{20 * time.Minute, KindRepeat, 1, 2},
		{25 * time.Minute, KindRepeat, 1, 3},
		{30 * time.Minute, KindEscalation, 2, 0},
		{35 * time.Minute, KindRepeat, 2, 1},
		{40 * time.Minute, KindRepeat, 2, 2},
		{45 * time.Minute, KindRepeat, 2, 3},
	}
	if len(got) != len(wants) {
		t.Fatalf("steps %v, want %v", got, wants)
	}
	for i := range wants {
		if got[i] != wants[i] {
			t.Errorf("step %d: %+v, want %+v", i, got[i], wants[i])
		}
	}
	p.Acked = true
	if s, due := nextStep(p, r, start.Add(time.Hour)); due {
		t.Errorf("acknowledged alarm still due for %+v", s)
	}
}

// TestEscalationNoRepeatForMajor: a major alarm climbs the chain but is
// not repeated; a resolved one stops.
func TestEscalationNoRepeatForMajor(t *testing.T) {
	c := mustParse(t, baseYAML)
	start := at(t, "2026-12-01 09:00")
	r := c.Match("main", "dc1", rules.Major, start)
	p := &pending{Severity: rules.Major, Started: start, LastAt: start}
	if _, due := nextStep(p, r, start.Add(9*time.Minute)); due {
		t.Fatal("due before the first level's delay")
	}
	s, due := nextStep(p, r, start.Add(10*time.Minute))
	if !due || s.Kind != KindEscalation || s.Level != 1 {
		t.Fatalf("at 10m: %+v due=%v, want escalation to level 1", s, due)
	}
	advance(p, s, start.Add(10*time.Minute), []string{"p:王主任"})
	if !stepAhead(&pending{Level: 0}, s) || stepAhead(p, s) {
		t.Error("stepAhead: a recorded step is not ahead, an unrecorded one is")
	}
	p.Resolved = true
	if _, due := nextStep(p, r, start.Add(time.Hour)); due {
		t.Error("resolved alarm still escalates")
	}
	// Level 1 targets the 科主任 by name.
	if got := names(c.Targets(r.Levels[1].To, start, "")); got != "王主任" {
		t.Errorf("level 1: %s", got)
	}
}
