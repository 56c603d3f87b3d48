package main

import (
	"strings"
	"testing"
	"time"

	rwc "github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

// simValues is what the simulator serves for profile p by default (the
// `normal` scenario), decoded as a poller would.
func simValues(t *testing.T, cfg *Config, profile string, over map[string]string) []rwc.Value {
	t.Helper()
	p := cfg.profiles[profile]
	if p == nil {
		t.Fatalf("profile %s not found", profile)
	}
	var out []rwc.Value
	for i := range p.Fields {
		f := &p.Fields[i]
		text := f.Sim
		if o, ok := over[f.Name]; ok {
			text = o
		}
		if text == "" {
			continue
		}
		v, err := f.Parse(text)
		if err != nil {
			t.Fatalf("profile %s: %v", profile, err)
		}
		raw, err := f.Raw(v, false)
		if err != nil {
			t.Fatalf("profile %s: %v", profile, err)
		}
		out = append(out, f.Convert(raw, false, "sim"))
	}
	return out
}

// TestDemoAllClearAfterNormal: the demo's devices, serving their
// simulator defaults (the `normal` scenario), raise no alarm with the
// default rules — the UPS runtime covers the rooms' carry time — and an
// alarm of the switch room's UPS, titled with the room, names the room
// once.
func TestDemoAllClearAfterNormal(t *testing.T) {
	cfg, err := loadConfig("../../deploy/local/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ts []rules.Transition
	e, err := rules.NewEngine(cfg.rules, cfg.inventory(), func(x []rules.Transition) { ts = append(ts, x...) },
		rules.WithValueTitles(cfg.profiles.ValueTitle))
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 10:00 in Shanghai: office hours.
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)
	inv := cfg.inventory()
	run := func(from, to int, over map[string]string) {
		for m := from; m < to; m++ {
			now := t0.Add(time.Duration(m) * time.Minute)
			for _, s := range inv.Sites {
				for _, r := range s.Rooms {
					for _, d := range r.Devices {
						e.Eval(now, rwc.SampleSet{Device: d.Device, Time: now, Values: simValues(t, cfg, d.Device.Profile, over)})
					}
				}
			}
			e.Tick(now)
		}
	}
	run(0, 30, nil)
	for _, tr := range ts {
		t.Errorf("alarm after normal: %s", tr.Alert.Text["zh"])
	}
	ts = nil
	run(30, 31, map[string]string{"on_battery": "true"})
	found := false
	for _, tr := range ts {
		zh := tr.Alert.Text["zh"]
		if tr.Alert.Labels["device"] == "ups2" && tr.Alert.Rule == "ups-on-battery" {
			found = true
			if zh != "【严重】网络间 UPS 市电中断，UPS 由电池供电，剩余 480 分钟" {
				t.Errorf("switch room UPS: %q", zh)
			}
		}
		if strings.Contains(zh, "网络间 网络间") {
			t.Errorf("room named twice: %q", zh)
		}
	}
	if !found {
		t.Errorf("no mains-lost alarm for ups2: %+v", ts)
	}
	ts = nil
	run(31, 45, nil)
	for _, tr := range ts {
		if tr.To != rules.Inactive {
			t.Errorf("after normal again: %s", tr.Alert.Text["zh"])
		}
	}
	if active := e.Alerts(); len(active) > 0 {
		t.Errorf("not all clear: %+v", active)
	}
}
