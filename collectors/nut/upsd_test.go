package nut

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/nut/nuttest"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

const onLine = `ups.status: OL CHRG
battery.charge: 100
battery.runtime: 2700
battery.voltage: 54.6
input.voltage: 230.0
output.voltage: 229.5
ups.load: 35
ups.model: Smart-UPS 1500
`

// onBattery is onLine after the mains went: on battery and low. Neither
// reports battery.temperature, as many small UPSes do not.
const onBattery = `ups.status: OB LB
battery.charge: 18
battery.runtime: 300
battery.voltage: 48.1
input.voltage: 0.0
output.voltage: 228.0
ups.load: 36
ups.model: Smart-UPS 1500
`

func poller(t *testing.T, url string, timeout time.Duration) *Poller {
	t.Helper()
	tg, err := collectors.ParseTarget(url)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(collectors.DeviceConfig{
		Device: collectors.Device{Site: "h", Room: "r", Name: "ups1"}, Target: tg, Timeout: timeout,
	}, nutUPS(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// pollUntil polls until ok accepts the values, or fails after 15 s.
func pollUntil(t *testing.T, p *Poller, ok func(s *collectors.SampleSet) bool) collectors.SampleSet {
	t.Helper()
	var s collectors.SampleSet
	testutil.Eventually(t, 15*time.Second, "the UPS's values through upsd", func() (bool, string) {
		var err error
		s, err = p.Poll(context.Background())
		return err == nil && ok(&s), fmt.Sprintf("err %v, values %+v", err, s.Values)
	})
	return s
}

func onBatteryIs(want bool) func(s *collectors.SampleSet) bool {
	return func(s *collectors.SampleSet) bool {
		v, _ := s.Get("on_battery")
		return v.Quality == collectors.Good && v.Any() == want
	}
}

// TestUpsd reads a dummy-ups UPS through a real upsd, sees the mains go
// (OL → OB LB) and a variable disappear, over one kept connection.
func TestUpsd(t *testing.T) {
	srv := nuttest.Start(t, onLine)
	p := poller(t, "nut://"+srv.Addr+"/"+nuttest.UPS, 3*time.Second)

	s := pollUntil(t, p, onBatteryIs(false))
	checkDecoded(t, s.Values, map[string]want{
		"on_battery": {v: false}, "battery_status": {v: "normal"}, "runtime_min": {v: 45.0},
		"charge_pct": {v: 100.0}, "battery_voltage_v": {v: 54.6},
		"battery_temp_c":  {quality: collectors.SensorFault, err: "battery.temperature: upsd does not report"},
		"input_voltage_v": {v: 230.0}, "output_voltage_v": {v: 229.5}, "load_pct": {v: 35.0},
		"model": {v: "Smart-UPS 1500"}, "replace_battery": {v: false},
	})
	conn := p.c.conn

	srv.Set(onBattery)
	s = pollUntil(t, p, onBatteryIs(true))
	checkDecoded(t, s.Values, map[string]want{
		"on_battery": {v: true}, "battery_status": {v: "low"}, "runtime_min": {v: 5.0},
		"charge_pct": {v: 18.0}, "input_voltage_v": {v: 0.0}, "load_pct": {v: 36.0},
	})
	if p.c.conn != conn {
		t.Error("the connection to upsd was not kept between polls")
	}
}

func TestUpsdLogin(t *testing.T) {
	srv := nuttest.Start(t, onLine)
	t.Run("good password", func(t *testing.T) {
		p := poller(t, "nut://"+nuttest.User+"@"+srv.Addr+"/"+nuttest.UPS+"?login=true", 3*time.Second)
		p.c.pass = yamlconf.Secret(nuttest.Password) // a space in it: sent quoted
		pollUntil(t, p, onBatteryIs(false))
	})
	t.Run("wrong password", func(t *testing.T) {
		p := poller(t, "nut://"+nuttest.User+":wrong@"+srv.Addr+"/"+nuttest.UPS+"?login=true", 3*time.Second)
		s, err := p.Poll(context.Background())
		var ea *ErrAnswer
		if !errors.As(err, &ea) || ea.Code != "ACCESS-DENIED" {
			t.Fatalf("err = %v, want ERR ACCESS-DENIED", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error shows the password: %v", err)
		}
		if v, _ := s.Get("on_battery"); v.Quality != collectors.CommsLost {
			t.Errorf("on_battery %s, want comms-lost", v.Quality)
		}
	})
	t.Run("unknown ups", func(t *testing.T) {
		p := poller(t, "nut://"+srv.Addr+"/nosuchups", 3*time.Second)
		_, err := p.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), "ERR UNKNOWN-UPS") || !strings.Contains(err.Error(), "ups.conf") {
			t.Fatalf("err = %v, want ERR UNKNOWN-UPS with a hint", err)
		}
	})
}

// A upsd that accepts but never answers costs one device timeout and
// gives comms-lost; the next poll dials again.
func TestSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	p := poller(t, "nut://"+l.Addr().String()+"/ups", 300*time.Millisecond)
	for range 2 {
		s, err := p.Poll(context.Background())
		if err == nil || s.Reachable() {
			t.Fatalf("poll of a silent upsd: err %v", err)
		}
		if v, _ := s.Get("charge_pct"); v.Quality != collectors.CommsLost {
			t.Errorf("charge_pct %s, want comms-lost", v.Quality)
		}
		if p.c.conn != nil {
			t.Error("connection kept after a timeout")
		}
	}
}

func TestNewRejects(t *testing.T) {
	tg, _ := collectors.ParseTarget("nut://127.0.0.1/ups")
	p := *nutUPS(t)
	p.Fields = append([]profiles.Field(nil), p.Fields...)
	p.Fields[0].Name = "door_open"
	if _, err := New(collectors.DeviceConfig{Target: tg}, &p, nil); err == nil || !strings.Contains(err.Error(), "status value must be one of") {
		t.Errorf("status field of unknown name: err = %v", err)
	}
	snmp, _ := collectors.ParseTarget("snmp://127.0.0.1")
	if _, err := New(collectors.DeviceConfig{Target: snmp}, nutUPS(t), nil); err == nil {
		t.Error("snmp:// target accepted")
	}
}
