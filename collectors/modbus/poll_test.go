package modbus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/sim/modbussim"
)

// allTypes has every register type in every order, bit fields, coils
// and discrete inputs; values are unscaled so Num equals the raw number.
const allTypes = `
name: alltypes
class: test
protocol: modbus
values:
  - {name: u16, table: holding, address: 0, type: uint16}
  - {name: i16, table: holding, address: 1, type: int16}
  - {name: i16_badc, table: holding, address: 2, type: int16, order: BADC}
  - {name: bit0, table: holding, address: 3, type: uint16, bit: 0}
  - {name: bit13, table: holding, address: 3, type: uint16, bit: 13}
  - {name: i32_abcd, table: holding, address: 4, type: int32, order: ABCD}
  - {name: i32_cdab, table: holding, address: 6, type: int32, order: CDAB}
  - {name: i32_badc, table: holding, address: 8, type: int32, order: BADC}
  - {name: i32_dcba, table: holding, address: 10, type: int32, order: DCBA}
  - {name: u32_abcd, table: holding, address: 12, type: uint32, order: ABCD}
  - {name: u32_cdab, table: holding, address: 14, type: uint32, order: CDAB}
  - {name: u32_badc, table: holding, address: 16, type: uint32, order: BADC}
  - {name: u32_dcba, table: holding, address: 18, type: uint32, order: DCBA}
  - {name: f32_abcd, table: holding, address: 20, type: float32, order: ABCD}
  - {name: f32_cdab, table: holding, address: 22, type: float32, order: CDAB}
  - {name: f32_badc, table: holding, address: 24, type: float32, order: BADC}
  - {name: f32_dcba, table: holding, address: 26, type: float32, order: DCBA}
  - {name: in_u16, table: input, address: 0, type: uint16}
  - {name: in_f32_dcba, table: input, address: 1, type: float32, order: DCBA}
  - {name: in_i32_cdab, table: input, address: 3, type: int32, order: CDAB}
  - {name: coil0, table: coil, address: 0, type: bool}
  - {name: coil9, table: coil, address: 9, type: bool}
  - {name: di0, table: discrete, address: 0, type: bool}
  - {name: di1, table: discrete, address: 1, type: bool}
`

var allTypesRaw = map[string]float64{
	"u16": 65000, "i16": -12345, "i16_badc": -2, "bit0": 1, "bit13": 1,
	"i32_abcd": -2000000000, "i32_cdab": 123456789, "i32_badc": -7, "i32_dcba": 2147483647,
	"u32_abcd": 4000000000, "u32_cdab": 90000, "u32_badc": 1, "u32_dcba": 4294967295,
	"f32_abcd": -1234.5, "f32_cdab": 380.5, "f32_badc": 0.15625, "f32_dcba": -999,
	"in_u16": 7, "in_f32_dcba": 229.75, "in_i32_cdab": -100000,
	"coil0": 1, "coil9": 0, "di0": 0, "di1": 1,
}

// gappy is what the simulator serves for the exception test: holding
// registers 0 and 2 (not 1) and input register 0.
const gappy = `
name: gappy
class: test
protocol: modbus
values:
  - {name: h0, table: holding, address: 0, type: uint16, sim: "10"}
  - {name: h2, table: holding, address: 2, type: uint16, sim: "12"}
  - {name: in0, table: input, address: 0, type: uint16, sim: "20"}
`

// gappyPolled asks for more than the device has: holding register 1 sits
// inside the coalesced request 0..2, register 40 is a request of its own.
const gappyPolled = `
name: gappy-polled
class: test
protocol: modbus
values:
  - {name: h0, table: holding, address: 0, type: uint16}
  - {name: h1, table: holding, address: 1, type: uint16}
  - {name: h2, table: holding, address: 2, type: uint16}
  - {name: h40, table: holding, address: 40, type: uint16}
  - {name: in0, table: input, address: 0, type: uint16}
`

// testStore is a store serving one device of each test profile.
func testStore(t testing.TB) *sim.Store {
	s := newStore(t,
		simDevice{"th", builtin(t, "modbus-th"), nil},
		simDevice{"di", builtin(t, "modbus-di"), []string{"door_open"}},
		simDevice{"ups", builtin(t, "modbus-ups"), nil},
		simDevice{"all", parseProfile(t, allTypes), nil},
		simDevice{"gappy", parseProfile(t, gappy), nil},
	)
	for name, raw := range allTypesRaw {
		if err := s.SetRaw("all", name, raw); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var testUnits = map[uint8]string{1: "th", 2: "di", 3: "ups", 4: "all", 5: "gappy"}

// unitProfile is the built-in profile of units 1-3.
var unitProfile = map[uint8]string{1: "modbus-th", 2: "modbus-di", 3: "modbus-ups"}

func poll(t *testing.T, p *modbus.Poller) collectors.SampleSet {
	t.Helper()
	s, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return s
}

// checkSet compares a sample set with want (see checkValue).
func checkSet(t *testing.T, s collectors.SampleSet, want map[string]string) {
	t.Helper()
	if len(s.Values) != len(want) {
		t.Errorf("%s: %d values, want %d", s.Device.Name, len(s.Values), len(want))
	}
	for name, w := range want {
		v, _ := s.Get(name)
		modbus.CheckValue(t, v, name, w)
	}
}

// exercise runs the protocol checks against one line; target makes the
// address of a unit on it.
func exercise(t *testing.T, store *sim.Store, target func(unit uint8) collectors.Target) {
	t.Run("built-in profiles", func(t *testing.T) {
		if err := store.Set("th", "temperature_c", "28.5"); err != nil {
			t.Fatal(err)
		}
		_ = store.Set("th", "humidity_pct", "61.2")
		_ = store.Set("di", "water_leak", "true")
		_ = store.Set("ups", "on_battery", "true")
		_ = store.Set("ups", "battery_status", "low")
		_ = store.Set("ups", "runtime_min", "42")
		_ = store.Set("ups", "seconds_on_battery", "90000")
		_ = store.Set("ups", "battery_voltage_v", "380.5")
		th := poll(t, newPoller(t, "th", target(1), builtin(t, "modbus-th"), 5*time.Second))
		checkSet(t, th, map[string]string{"temperature_c": "28.5", "humidity_pct": "61.2"})
		if th.Device.Class != "env" || th.Device.Profile != "modbus-th" || th.Device.Site != "s" {
			t.Errorf("device = %+v", th.Device)
		}
		di := poll(t, newPoller(t, "di", target(2), builtin(t, "modbus-di"), 5*time.Second, "door_open"))
		checkSet(t, di, map[string]string{"door_open": "false", "spd_fault": "false", "water_leak": "true", "smoke": "false"})
		if di.Device.Class != "di" {
			t.Errorf("class %q", di.Device.Class)
		}
		// The same contact read without the device's inversion.
		raw := poll(t, newPoller(t, "di-as-no", target(2), builtin(t, "modbus-di"), 5*time.Second))
		checkSet(t, raw, map[string]string{"door_open": "true", "spd_fault": "false", "water_leak": "true", "smoke": "false"})
		ups := poll(t, newPoller(t, "ups", target(3), builtin(t, "modbus-ups"), 5*time.Second))
		checkSet(t, ups, map[string]string{
			"on_battery": "true", "battery_status": "low", "charge_pct": "100", "load_pct": "35",
			"runtime_min": "42", "seconds_on_battery": "90000", "battery_voltage_v": "380.5",
			"battery_temp_c": "25", "input_voltage_v": "229.5", "output_voltage_v": "230",
			"input_frequency_hz": "50", "output_frequency_hz": "50",
		})
	})
	t.Run("every type and order", func(t *testing.T) {
		s := poll(t, newPoller(t, "all", target(4), parseProfile(t, allTypes), 5*time.Second))
		want := map[string]string{}
		for name, raw := range allTypesRaw {
			want[name] = fmt.Sprint(raw)
			if strings.HasPrefix(name, "bit") || strings.HasPrefix(name, "coil") || strings.HasPrefix(name, "di") {
				want[name] = fmt.Sprint(raw != 0)
			}
		}
		checkSet(t, s, want)
	})
	t.Run("exception per value", func(t *testing.T) {
		p := newPoller(t, "gappy", target(5), parseProfile(t, gappyPolled), 5*time.Second)
		for range 2 { // the second poll reads the split block field by field at once
			s := poll(t, p)
			checkSet(t, s, map[string]string{"h0": "10", "h1": "sensor-fault", "h2": "12", "h40": "sensor-fault", "in0": "20"})
			for name, reg := range map[string]string{"h1": "holding register 1", "h40": "holding register 40"} {
				v, _ := s.Get(name)
				if want := reg + ": exception 2 (illegal data address)"; v.Err != want {
					t.Errorf("%s: err %q, want %q", name, v.Err, want)
				}
			}
		}
	})
	t.Run("sentinel", func(t *testing.T) {
		if err := store.SetRaw("th", "temperature_c", 0x7FFF); err != nil {
			t.Fatal(err)
		}
		defer store.Set("th", "temperature_c", "23")
		s := poll(t, newPoller(t, "th", target(1), builtin(t, "modbus-th"), 5*time.Second))
		v, _ := s.Get("temperature_c")
		if v.Quality != collectors.SensorFault || !strings.HasPrefix(v.Err, "input register 1: sensor disconnected") {
			t.Errorf("temperature_c = %+v, want a sensor fault at input register 1", v)
		}
		if h, _ := s.Get("humidity_pct"); h.Quality != collectors.Good {
			t.Errorf("humidity_pct = %+v", h)
		}
	})
	t.Run("units on one line take turns", func(t *testing.T) {
		var pollers []*modbus.Poller
		for _, u := range []uint8{1, 2, 3, 4} {
			p := parseProfile(t, allTypes)
			if u != 4 {
				p = builtin(t, unitProfile[u])
			}
			pollers = append(pollers, newPoller(t, fmt.Sprint("unit", u), target(u), p, 10*time.Second))
		}
		for _, p := range pollers[1:] {
			if !modbus.SameBus(p, pollers[0]) {
				t.Fatal("devices on one line do not share its bus")
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for _, p := range pollers {
			wg.Go(func() {
				for range 5 {
					s, err := p.Poll(context.Background())
					if err != nil {
						errs <- err
						return
					}
					for _, v := range s.Values {
						if v.Quality != collectors.Good {
							errs <- fmt.Errorf("%s %s: %v %s", s.Device.Name, v.Name, v.Quality, v.Err)
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestPollTCP(t *testing.T) {
	store := testStore(t)
	addr := serveTCP(t, store, testUnits)
	exercise(t, store, func(u uint8) collectors.Target { return tcpTarget(addr, u) })
}

func TestPollRTU(t *testing.T) {
	a, b := ptyPair(t)
	store := testStore(t)
	s := modbussim.NewSimulator(store, nil)
	line := collectors.Target{Scheme: collectors.SchemeModbusRTU, Port: b, Baud: 115200, DataBits: 8, Parity: "N", StopBits: 1}
	if err := s.ServeRTU(line, testUnits); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	target := func(u uint8) collectors.Target {
		tg := line
		tg.Port, tg.Unit = a, u
		return tg
	}
	exercise(t, store, target)

	t.Run("absent unit times out, the line recovers", func(t *testing.T) {
		gone := newPoller(t, "gone", target(9), builtin(t, "modbus-th"), 200*time.Millisecond)
		s, err := gone.Poll(context.Background())
		if err == nil || s.Err == "" {
			t.Fatalf("poll of an absent unit: err %v", err)
		}
		for _, v := range s.Values {
			if v.Quality != collectors.CommsLost {
				t.Errorf("%s: %v, want comms-lost", v.Name, v.Quality)
			}
		}
		checkSet(t, poll(t, newPoller(t, "th", target(1), builtin(t, "modbus-th"), 5*time.Second)),
			map[string]string{"temperature_c": "23", "humidity_pct": "61.2"})
	})
	t.Run("absent unit with a retry fails at the poll timeout, the line recovers", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		gone, err := modbus.New(collectors.DeviceConfig{
			Device: collectors.Device{Name: "gone"}, Target: target(9), Timeout: timeout, Retries: 1,
		}, builtin(t, "modbus-th"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer gone.Close()
		start := time.Now()
		if _, err := gone.Poll(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("poll of an absent unit: %v, want the deadline", err)
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("gave up after %v, before the timeout %v", took, timeout)
		}
		checkSet(t, poll(t, newPoller(t, "th", target(1), builtin(t, "modbus-th"), 5*time.Second)),
			map[string]string{"temperature_c": "23", "humidity_pct": "61.2"})
	})
	t.Run("conflicting line settings", func(t *testing.T) {
		keep := newPoller(t, "th", target(1), builtin(t, "modbus-th"), time.Second)
		_ = keep
		bad := target(2)
		bad.Baud = 9600
		_, err := modbus.New(collectors.DeviceConfig{Device: collectors.Device{Name: "di"}, Target: bad}, builtin(t, "modbus-di"), nil)
		if err == nil || !strings.Contains(err.Error(), "other devices use it at 115200 8N1") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestSharedGateway: devices behind one TCP gateway use one connection,
// one request at a time.
func TestSharedGateway(t *testing.T) {
	store := testStore(t)
	px := newProxy(t, serveTCP(t, store, testUnits), nil)
	var wg sync.WaitGroup
	for _, u := range []uint8{1, 2, 3} {
		p := newPoller(t, fmt.Sprint("unit", u), tcpTarget(px.addr(), u), builtin(t, unitProfile[u]), 10*time.Second)
		wg.Go(func() {
			for range 10 {
				if _, err := p.Poll(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if conns, maxOut := px.stats(); conns != 1 || maxOut != 1 {
		t.Errorf("gateway saw %d connections and up to %d requests at once, want 1 and 1", conns, maxOut)
	}
}

// TestLateAnswerAfterTimeout: a server answers one request after the
// poll gave up. The next poll must get its own, fresh answer — not the
// stale one (goburrow would stay a transaction behind on the old
// connection).
func TestLateAnswerAfterTimeout(t *testing.T) {
	store := testStore(t)
	px := newProxy(t, serveTCP(t, store, testUnits), func(n int) time.Duration {
		if n == 1 {
			return 400 * time.Millisecond
		}
		return 0
	})
	p := newPoller(t, "th", tcpTarget(px.addr(), 1), builtin(t, "modbus-th"), 100*time.Millisecond)
	_ = store.Set("th", "temperature_c", "20")
	s, err := p.Poll(context.Background())
	if err == nil {
		t.Fatal("first poll did not time out")
	}
	if v, _ := s.Get("temperature_c"); v.Quality != collectors.CommsLost {
		t.Errorf("timed-out poll: %+v", v)
	}
	<-px.late // the stale answer (20 °C) has been sent
	_ = store.Set("th", "temperature_c", "31.5")
	for i := range 3 {
		s, err = p.Poll(context.Background())
		if err != nil {
			t.Fatalf("poll %d after the late answer: %v", i+2, err)
		}
		checkSet(t, s, map[string]string{"temperature_c": "31.5", "humidity_pct": "45"})
	}
	if conns, _ := px.stats(); conns != 2 {
		t.Errorf("%d connections, want 2 (one dropped after the timeout)", conns)
	}
}

// TestHungDevice: a device that accepts and never answers holds only its
// own poll; a healthy device's poll completes meanwhile, and cancelling
// the hung poll ends it at once with a comms-lost set.
func TestHungDevice(t *testing.T) {
	store := testStore(t)
	healthyAddr := serveTCP(t, store, testUnits)
	hungAddr, got := hungServer(t)
	hung := newPoller(t, "hung", tcpTarget(hungAddr, 1), builtin(t, "modbus-th"), time.Hour)
	healthy := newPoller(t, "healthy", tcpTarget(healthyAddr, 1), builtin(t, "modbus-th"), 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		s   collectors.SampleSet
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := hung.Poll(ctx)
		done <- result{s, err}
	}()
	<-got // the hung device has the request
	checkSet(t, poll(t, healthy), map[string]string{"temperature_c": "23", "humidity_pct": "45"})
	select {
	case <-done:
		t.Fatal("hung poll returned before it was cancelled")
	default:
	}

	// A second unit behind the hung gateway waits for it, within its own deadline.
	other := newPoller(t, "other", tcpTarget(hungAddr, 2), builtin(t, "modbus-th"), 50*time.Millisecond)
	if _, err := other.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "wait for bus tcp:"+hungAddr) {
		t.Errorf("poll behind a hung device: %v", err)
	}

	cancel()
	r := <-done
	if r.err == nil || !errors.Is(r.err, context.Canceled) {
		t.Errorf("hung poll: %v, want context canceled", r.err)
	}
	if r.s.Err == "" || r.s.Values[0].Quality != collectors.CommsLost {
		t.Errorf("hung poll set: %+v", r.s)
	}
}

func TestNewRejects(t *testing.T) {
	tcp := tcpTarget("127.0.0.1:1", 1)
	snmpProfile := &profiles.Profile{Name: "apc-env", Protocol: "snmp"}
	cases := []struct {
		name string
		cfg  collectors.DeviceConfig
		p    *profiles.Profile
		want string
	}{
		{"snmp profile", collectors.DeviceConfig{Target: tcp}, snmpProfile, `device "d": profile "apc-env" is for snmp, not modbus`},
		{"snmp target", collectors.DeviceConfig{Target: collectors.Target{Scheme: "snmp", Host: "h:161", Version: "2c"}}, builtin(t, "modbus-th"), `device "d": target snmp://h:161?version=2c is not modbus+tcp or modbus+rtu`},
		{"no profile", collectors.DeviceConfig{Target: tcp}, nil, `device "d": no profile`},
		{"unknown invert", collectors.DeviceConfig{Target: tcp, Invert: []string{"door"}}, builtin(t, "modbus-di"), `device "d": invert "door": profile "modbus-di" has no such value`},
		{"invert a number", collectors.DeviceConfig{Target: tcp, Invert: []string{"temperature_c"}}, builtin(t, "modbus-th"), `device "d": invert "temperature_c": not a bool value`},
		{"rtu without port", collectors.DeviceConfig{Target: collectors.Target{Scheme: collectors.SchemeModbusRTU}}, builtin(t, "modbus-th"), `device "d": modbus+rtu target has no serial port`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Device.Name = "d"
			p, err := modbus.New(c.cfg, c.p, nil)
			if err == nil {
				_ = p.Close()
				t.Fatal("accepted")
			}
			if err.Error() != c.want {
				t.Errorf("err = %q, want %q", err, c.want)
			}
		})
	}
}

func TestReadRaw(t *testing.T) {
	store := testStore(t)
	addr := serveTCP(t, store, testUnits)
	regs, err := modbus.ReadRaw(context.Background(), tcpTarget(addr, 4), modbus.TableHolding, 22, 2)
	if err != nil {
		t.Fatal(err)
	}
	if regs[0] != 0x4000 || regs[1] != 0x43BE { // 380.5, CDAB
		t.Errorf("regs = %04X", regs)
	}
	bits, err := modbus.ReadRaw(context.Background(), tcpTarget(addr, 4), modbus.TableDiscrete, 0, 2)
	if err != nil || bits[0] != 0 || bits[1] != 1 {
		t.Errorf("bits = %v, %v", bits, err)
	}
	_, err = modbus.ReadRaw(context.Background(), tcpTarget(addr, 4), modbus.TableHolding, 100, 2)
	if err == nil || !strings.HasSuffix(err.Error(), "holding register 100..101: exception 2 (illegal data address)") {
		t.Errorf("err = %v", err)
	}
	if _, err := modbus.ReadRaw(context.Background(), tcpTarget(addr, 4), "holdings", 0, 1); err == nil {
		t.Error("unknown table accepted")
	}
	if _, err := modbus.ReadRaw(context.Background(), tcpTarget(addr, 4), modbus.TableInput, 0, 126); err == nil {
		t.Error("126 registers accepted")
	}
}

// TestGatewayWithoutDevice: a gateway answering exception 11 for a unit
// that does not answer behind it is lost communication, not a sensor
// fault.
func TestGatewayWithoutDevice(t *testing.T) {
	store := testStore(t)
	addr := serveTCP(t, store, testUnits)
	p := newPoller(t, "absent", tcpTarget(addr, 77), builtin(t, "modbus-th"), 5*time.Second)
	s, err := p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exception 11 (gateway target device failed to respond)") {
		t.Fatalf("err = %v", err)
	}
	for _, v := range s.Values {
		if v.Quality != collectors.CommsLost {
			t.Errorf("%s: %v, want comms-lost", v.Name, v.Quality)
		}
	}
	// The gateway connection stays usable for the units behind it.
	checkSet(t, poll(t, newPoller(t, "th", tcpTarget(addr, 1), builtin(t, "modbus-th"), 5*time.Second)),
		map[string]string{"temperature_c": "23", "humidity_pct": "45"})
}
