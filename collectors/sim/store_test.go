package sim

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors/profiles"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore()
	for _, dev := range []struct{ name, profile string }{{"ups1", "rfc1628-ups"}, {"th1", "modbus-th"}, {"di1", "modbus-di"}} {
		if err := s.Add(dev.name, set[dev.profile], "door_open"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestScenariosChangeWhatTheDevicesSend(t *testing.T) {
	s := newStore(t)
	if got := s.Values()["ups1"]["on_battery"]; got != "false" {
		t.Fatalf("on_battery at start = %s", got)
	}
	if err := s.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	if got := s.Values()["ups1"]["on_battery"]; got != "true" {
		t.Errorf("after mains-fail on_battery = %s", got)
	}
	if err := s.Apply("probe-unplugged"); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("th1", "temperature_c"); raw != 0x7FFF {
		t.Errorf("unplugged probe sends %v, want the 0x7FFF sentinel", raw)
	}
	if got := s.Values()["th1"]["temperature_c"]; got != "sensor-fault" {
		t.Errorf("unplugged probe decodes to %s", got)
	}
	if err := s.Apply("door-open"); err != nil {
		t.Fatal(err)
	}
	// di1 wires door_open normally-closed: an open door sends 0.
	if raw, _ := s.Raw("di1", "door_open"); raw != 0 {
		t.Errorf("open normally-closed door sends %v, want 0", raw)
	}
	if err := s.Apply("normal"); err != nil {
		t.Fatal(err)
	}
	if v := s.Values(); v["ups1"]["on_battery"] != "false" || v["th1"]["temperature_c"] == "sensor-fault" || v["di1"]["door_open"] != "false" {
		t.Errorf("after normal: %v", v)
	}
	if err := s.Apply("earthquake"); err == nil || !strings.Contains(err.Error(), "mains-fail") {
		t.Errorf("unknown scenario: err = %v, want the list of scenarios", err)
	}
}

func TestSetNamesDeviceAndValue(t *testing.T) {
	s := newStore(t)
	if err := s.Set("th1", "temperature_c", "31.5"); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("th1", "temperature_c"); raw != 315 {
		t.Errorf("31.5 °C sends %v, want 315", raw)
	}
	for _, c := range []struct{ dev, name, val, want string }{
		{"nope", "temperature_c", "1", `no simulated device "nope"`},
		{"th1", "pressure", "1", `has no value "pressure"`},
		{"th1", "temperature_c", "warm", `"warm" is not a number`},
		{"ups1", "battery_status", "exploded", `"exploded" is not one of the profile's labels`},
	} {
		if err := s.Set(c.dev, c.name, c.val); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%s, %s, %s) = %v, want %q", c.dev, c.name, c.val, err, c.want)
		}
	}
}

func TestControlHandler(t *testing.T) {
	s := newStore(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/scenario/hot-room", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /scenario/hot-room: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := s.Values()["th1"]["temperature_c"]; got != "31.5" {
		t.Errorf("hot room: temperature %s", got)
	}
	resp, err = http.Post(srv.URL+"/set?device=th1&name=humidity_pct&value=abc", "", nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad value: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A user profile without sim: defaults still simulates: numbers start at
// 0, bools false, enums at their lowest code.
func TestAddWithoutSimDefaults(t *testing.T) {
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := *set["rfc1628-ups"]
	p.Fields = slices.Clone(p.Fields)
	for i := range p.Fields {
		p.Fields[i].Sim = ""
	}
	s := NewStore()
	if err := s.Add("ups1", &p); err != nil {
		t.Fatalf("Add: %v", err)
	}
	v := s.Values()["ups1"]
	if v["on_battery"] != "false" || v["charge_pct"] != "0" || v["battery_status"] != "unknown" {
		t.Errorf("defaults: %v", v)
	}
}
