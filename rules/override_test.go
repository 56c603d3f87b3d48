package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// A site and a room change a rule's threshold, `for` and severity
// without copying it; the room's override wins field by field.
func TestOverridesForAndSeverity(t *testing.T) {
	rs := mustParse(t, `
rules:
  - name: hot
    severity: minor
    band: {value: temperature_c, above: 28, clear: 27}
    for: 10m
`)
	r2Dev := collectors.Device{Site: "main", Room: "r2", Name: "th1", Profile: "modbus-th", Class: "env"}
	inv := testInventory()
	inv.Sites[0].Overrides = map[string]Override{"hot": {Severity: Major, For: ptr(5 * time.Minute)}}
	inv.Sites[0].Rooms[0].Overrides = map[string]Override{"hot": {For: ptr(time.Minute), Threshold: ptr(25.0)}}
	inv.Sites[0].Rooms = append(inv.Sites[0].Rooms, Room{Name: "r2",
		Devices: []DeviceInfo{{Device: r2Dev, Interval: 10 * time.Second}}})
	rec := &recorder{}
	e, err := NewEngine(rs, inv, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	// Room r1: threshold 25 (clear 24), for 1m, severity major (site).
	runSteps(t, e, "hot", envDev, []step{
		{at: 0, vals: T(26), want: Pending},
		{at: time.Minute, vals: T(26), want: Firing},
		{at: 2 * time.Minute, vals: T(24.5), want: Firing}, // inside the moved band
		{at: 3 * time.Minute, vals: T(23.9), want: Inactive},
	})
	// Room r2: the rule's threshold, the site's for (5m) and severity.
	runSteps(t, e, "hot", r2Dev, []step{
		{at: 0, vals: T(29), want: Pending},
		{at: 4 * time.Minute, vals: T(29), want: Pending},
		{at: 5 * time.Minute, vals: T(29), want: Firing},
	})
	var sev []Severity
	for _, tr := range rec.take() {
		if tr.To == Firing {
			sev = append(sev, tr.Alert.Severity)
			if !strings.HasPrefix(tr.Alert.Text[LangZh], "【重要】") {
				t.Errorf("text %q: want the overridden severity", tr.Alert.Text[LangZh])
			}
		}
	}
	if len(sev) != 2 || sev[0] != Major || sev[1] != Major {
		t.Fatalf("severities %v, want major twice", sev)
	}
}

func TestValidateOverrides(t *testing.T) {
	rs := mustParse(t, `
rules:
  - name: hot
    severity: minor
    band: {value: temperature_c, above: 28}
  - name: fault
    severity: minor
    sensor_fault: {}
`)
	const y = `rules:
  hot: {for: 10ms, severity: urgent}
  fault: {threshold: 3}
  gone: {for: 1m}
  empty: {}
`
	var doc struct {
		Rules map[string]Override `yaml:"rules"`
	}
	f, err := yamlconf.Decode("roomwatch.yaml", []byte(y), &doc)
	if err != nil {
		t.Fatal(err)
	}
	errs := &yamlconf.Errors{File: f}
	ValidateOverrides(errs, "rules", rs, doc.Rules)
	got := errs.Err()
	if got == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`roomwatch.yaml:2: rules.hot.for: 10ms: must be 0 or at least 1s`,
		`roomwatch.yaml:2: rules.hot.severity: "urgent": want critical, major, minor or warning`,
		`roomwatch.yaml:3: rules.fault.threshold: rule fault has no threshold to change (a sensor_fault rule)`,
		`roomwatch.yaml:4: rules.gone: no rule called "gone"`,
		`roomwatch.yaml:5: rules.empty: no rule called "empty"`,
	} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, got)
		}
	}
}
