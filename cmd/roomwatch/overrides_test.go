package main

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

const overrideConfig = `state_dir: /tmp/roomwatch-test
sites:
  - name: main
    rules:
      room-temperature-high: {for: 10m, severity: critical}
    rooms:
      - name: pacs
        thresholds:
          room-temperature-low: 16
        rules:
          room-temperature-high: {threshold: 25, for: 2m}
        devices:
          - name: th
            profile: modbus-th
            url: modbus+tcp://10.0.0.5:502?unit=1
`

// A site and a room change a default rule's for and severity in
// roomwatch.yaml; the engine's inventory carries them.
func TestConfigRuleOverrides(t *testing.T) {
	c, err := parseConfig("roomwatch.yaml", []byte(overrideConfig))
	if err != nil {
		t.Fatal(err)
	}
	inv := c.inventory()
	site := inv.Sites[0]
	if o := site.Overrides["room-temperature-high"]; o.Severity != rules.Critical || o.For == nil || *o.For != 10*time.Minute {
		t.Errorf("site override %+v", o)
	}
	room := site.Rooms[0]
	if o := room.Overrides["room-temperature-high"]; o.Threshold == nil || *o.Threshold != 25 || *o.For != 2*time.Minute {
		t.Errorf("room override %+v", o)
	}
	if o := room.Overrides["room-temperature-low"]; o.Threshold == nil || *o.Threshold != 16 {
		t.Errorf("thresholds: not an override: %+v", o)
	}
}

func TestConfigRuleOverrideErrors(t *testing.T) {
	bad := strings.NewReplacer(
		"{for: 10m, severity: critical}", "{for: 10m, severity: urgent}",
		"room-temperature-low: 16", "room-temperature-high: 26",
		"{threshold: 25, for: 2m}", "{threshold: 25, for: 2m}\n          sensor-fault: {threshold: 2}\n          no-such-rule: {for: 1m}",
	).Replace(overrideConfig)
	_, err := parseConfig("roomwatch.yaml", []byte(bad))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`roomwatch.yaml:5: sites[0].rules.room-temperature-high.severity: "urgent": want critical, major, minor or warning`,
		`roomwatch.yaml:11: sites[0].rooms[0].rules.room-temperature-high.threshold: also set in thresholds: set it once`,
		`roomwatch.yaml:12: sites[0].rooms[0].rules.sensor-fault.threshold: rule sensor-fault has no threshold to change`,
		`roomwatch.yaml:13: sites[0].rooms[0].rules.no-such-rule: no rule called "no-such-rule"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
