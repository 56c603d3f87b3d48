package patrol

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestScenarioVerdicts reads room1's record after the scenario and checks
// the verdicts a person would expect.
func TestScenarioVerdicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	room := &e.srv.rooms[0]
	rec, _, err := e.srv.src.record(ctx, "main", "room1", scenarioDay.Format(time.DateOnly))
	if err != nil || rec == nil {
		t.Fatalf("record: %v %v", rec, err)
	}
	dels, err := e.srv.src.deliveries(ctx, "main", "room1", rec.From, rec.To)
	if err != nil || len(dels) != 1 {
		t.Fatalf("deliveries: %v %v", dels, err)
	}
	rv := buildRecord(rec, room, dels, LangZH, scenarioNow)
	want := map[string]string{
		"power.ups1.source":     VerdictOK,
		"power.ups1.mains_loss": VerdictAbnormal,
		"power.ups1.runtime":    VerdictOK,
		"power.ups1.load_pct":   VerdictOK,
		"env.th1.temperature_c": VerdictOK,
		"env.th1.humidity_pct":  VerdictOK,
		"door.di1":              VerdictAbnormal,
		"spd.di1.spd_fault":     VerdictOK,
		"water.di1.water_leak":  VerdictOK,
		"water.di1.smoke":       VerdictOK,
		"comms.ups1":            VerdictOK,
		"alarms":                VerdictAbnormal,
	}
	for id, v := range want {
		if got := rv.Verdicts[id]; got != v {
			t.Errorf("%s: verdict %q, want %q", id, got, v)
		}
	}
	if len(rv.Alarms) < 2 {
		t.Fatalf("alarms: %+v", rv.Alarms)
	}
	if len(rv.Alarms[0].Told) != 1 {
		t.Errorf("first alarm told: %v", rv.Alarms[0].Told)
	}
	for _, s := range rv.Sections {
		for _, it := range s.Items {
			if it.ID == "power.ups1.mains_loss" && (len(it.Evidence) < 2 || it.Chart == "") {
				t.Errorf("mains loss evidence %v chart %d bytes", it.Evidence, len(it.Chart))
			}
			// The record written through the KV keeps the hours: the
			// temperature is drawn hour by hour.
			if it.ID == "env.th1.temperature_c" && (!strings.Contains(string(it.Chart), `data-hour="0"`) || it.ChartNote != tr(LangZH, "chart_hourly")) {
				t.Errorf("temperature chart not hourly (%s): %s", it.ChartNote, it.Chart)
			}
		}
	}
	t.Logf("evidence of mains loss: %v", rv.Sections[0].Items[1].Evidence)
}
