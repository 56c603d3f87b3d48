package modbussim

import (
	"errors"
	"strings"
	"testing"

	"github.com/goburrow/modbus"
	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// twoRegisters is a device with a holding register and a float32 in
// word order CDAB.
const twoRegisters = `
name: two
class: test
protocol: modbus
values:
  - {name: u16, table: holding, address: 0, type: uint16, sim: "65000"}
  - {name: f32_cdab, table: holding, address: 22, type: float32, order: CDAB, sim: "380.5"}
`

// testStore serves "th" (modbus-th) and "all" (twoRegisters).
func testStore(t *testing.T) *sim.Store {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	two, err := profiles.Parse("two.yaml", []byte(twoRegisters))
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewStore()
	if err := s.Add("th", set["modbus-th"]); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("all", two); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSimulator(t *testing.T) {
	store := testStore(t)
	s := NewSimulator(store, nil)
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.ListenTCP("127.0.0.1:0", map[uint8]string{1: "nosuch"}); err == nil || !strings.Contains(err.Error(), `unit 1: unknown device "nosuch"`) {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := s.ListenTCP("127.0.0.1:0", nil); err == nil {
		t.Error("no units accepted")
	}
	// Two listeners, each with its own unit map (the benchmark serves one
	// device per port).
	a, err := s.ListenTCP("127.0.0.1:0", map[uint8]string{1: "th"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.ListenTCP("127.0.0.1:0", map[uint8]string{1: "all"})
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("both listeners on %s", a)
	}
	client := func(addr string, unit byte) modbus.Client {
		h := modbus.NewTCPClientHandler(addr)
		h.SlaveId = unit
		t.Cleanup(func() { _ = h.Close() })
		return modbus.NewClient(h)
	}
	exception := func(err error) byte {
		var me *modbus.ModbusError
		if !errors.As(err, &me) {
			t.Fatalf("want a Modbus exception, got %v", err)
		}
		return me.ExceptionCode
	}
	res, err := client(a, 1).ReadInputRegisters(0, 2)
	if err != nil || len(res) != 4 || res[0] != 0x01 || res[1] != 0xC2 { // 45.0 %
		t.Errorf("listener a: % X, %v", res, err)
	}
	res, err = client(b, 1).ReadHoldingRegisters(22, 2)
	if err != nil || len(res) != 4 || res[0] != 0x40 || res[2] != 0x43 {
		t.Errorf("listener b: % X, %v", res, err)
	}
	if _, err := client(a, 1).ReadInputRegisters(0, 3); exception(err) != 2 {
		t.Errorf("register 2 of modbus-th: %v, want exception 2", err)
	}
	if _, err := client(a, 1).ReadHoldingRegisters(0, 1); exception(err) != 2 {
		t.Errorf("holding register of an input-register device: %v, want exception 2", err)
	}
	if _, err := client(a, 7).ReadInputRegisters(0, 1); exception(err) != 11 {
		t.Errorf("unknown unit: %v, want exception 11", err)
	}
	if _, err := client(b, 1).WriteSingleRegister(0, 1); exception(err) != 1 {
		t.Errorf("write: %v, want exception 1 (roomwatch never writes)", err)
	}
	if got, _ := store.Raw("all", "u16"); got != 65000 {
		t.Errorf("write changed the store: %v", got)
	}
}

func TestCRC16(t *testing.T) {
	// Read holding registers 0..1 of unit 1: 01 03 00 00 00 02 C4 0B.
	if c := crc16([]byte{0x01, 0x03, 0x00, 0x00, 0x00, 0x02}); c != 0x0BC4 {
		t.Errorf("crc = %04X, want 0BC4", c)
	}
}
