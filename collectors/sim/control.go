package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// A scenario is a named change to every simulated device that has the
// values it touches: value name → decoded value as text.
var scenarios = map[string]map[string]string{
	"mains-fail":      {"on_battery": "true", "input_voltage_v": "0", "seconds_on_battery": "60"},
	"mains-restore":   {"on_battery": "false", "input_voltage_v": "", "seconds_on_battery": "0"},
	"hot-room":        {"temperature_c": "31.5"},
	"cool-room":       {"temperature_c": ""},
	"door-open":       {"door_open": "true"},
	"door-close":      {"door_open": "false"},
	"water-leak":      {"water_leak": "true"},
	"smoke":           {"smoke": "true"},
	"spd-fault":       {"spd_fault": "true"},
	"battery-weak":    {"runtime_min": "45", "charge_pct": ""},
	"probe-unplugged": {"temperature_c": "sentinel", "humidity_pct": "sentinel"},
}

// Scenarios lists the scenario names, sorted.
func Scenarios() []string {
	names := make([]string, 0, len(scenarios)+1)
	for n := range scenarios {
		names = append(names, n)
	}
	names = append(names, "normal")
	sort.Strings(names)
	return names
}

// Apply runs a scenario on every device that has its values. An empty
// value text restores the profile default; "sentinel" sends the field's
// first "sensor disconnected" sentinel. "normal" restores every default.
func (s *Store) Apply(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, ok := scenarios[name]
	if name == "normal" {
		changes, ok = nil, true
	}
	if !ok {
		return fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(Scenarios(), ", "))
	}
	for _, d := range s.devices {
		for i := range d.profile.Fields {
			f := &d.profile.Fields[i]
			text, touched := changes[f.Name]
			if name == "normal" {
				text, touched = "", true
			}
			if !touched {
				continue
			}
			switch {
			case text == "sentinel":
				if len(f.Sentinels) > 0 {
					d.raw[f.Name] = f.Sentinels[0]
				}
				continue
			case text == "" && f.Sim != "":
				text = f.Sim
			case text == "":
				continue
			}
			if err := d.set(f, text); err != nil {
				return fmt.Errorf("scenario %s: device profile %s: %w", name, d.profile.Name, err)
			}
		}
	}
	return nil
}

// Handler serves the control surface:
//
//	GET  /values                          every device's values (JSON)
//	POST /set?device=D&name=N&value=V     change one value
//	POST /scenario/NAME                   mains-fail, hot-room, door-open, normal…
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /values", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Values())
	})
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := s.Set(q.Get("device"), q.Get("name"), q.Get("value")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /scenario/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Apply(r.PathValue("name")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}
