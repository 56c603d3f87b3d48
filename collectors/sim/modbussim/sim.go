// Package modbussim is the Modbus simulator: a Modbus TCP server and an
// RTU slave on a serial line answering reads from simulated devices
// (collectors/sim holds their values). It serves `roomwatch sim`, demos
// and the Modbus poller's tests.
package modbussim

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/goburrow/serial"
	mbserver "github.com/simonvetter/modbus"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Source supplies the simulated devices and their values; *sim.Store
// implements it.
type Source interface {
	// Devices lists the device names.
	Devices() []string
	// Profile is the profile of a device (nil if unknown).
	Profile(device string) *profiles.Profile
	// Raw is the raw wire number the device sends for a field.
	Raw(device, field string) (float64, bool)
}

// Simulator answers Modbus reads for devices whose values come from a
// Source: over Modbus TCP (simonvetter/modbus's server, one listener per
// port, each mapping unit ids to devices) and as a Modbus RTU slave on a
// serial port. Registers no profile declares answer exception 2 (illegal
// data address); the simulator refuses writes (roomwatch never writes).
type Simulator struct {
	src Source
	log *slog.Logger

	mu      sync.Mutex
	layouts map[*profiles.Profile]layout
	tcp     []*mbserver.ModbusServer
	rtu     []*rtuSlave
}

// NewSimulator returns a simulator fed by src; it serves nothing until
// ListenTCP or ServeRTU.
func NewSimulator(src Source, log *slog.Logger) *Simulator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Simulator{src: src, log: log, layouts: map[*profiles.Profile]layout{}}
}

// layout maps each address of each table to the fields it carries.
type layout map[string]map[uint16][]slot

type slot struct {
	field *profiles.Field
	word  int // which register of the field
}

func (s *Simulator) layoutOf(p *profiles.Profile) layout {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.layouts[p]; ok {
		return l
	}
	l := layout{}
	for i := range p.Fields {
		f := &p.Fields[i]
		if l[f.Table] == nil {
			l[f.Table] = map[uint16][]slot{}
		}
		for w := 0; w < modbus.Width(f); w++ {
			a := f.Address + uint16(w)
			l[f.Table][a] = append(l[f.Table][a], slot{field: f, word: w})
		}
	}
	s.layouts[p] = l
	return l
}

// checkUnits verifies that every unit maps to a Modbus device of the source.
func (s *Simulator) checkUnits(units map[uint8]string) error {
	if len(units) == 0 {
		return errors.New("modbus simulator: no units")
	}
	for u, dev := range units {
		p := s.src.Profile(dev)
		if p == nil {
			return fmt.Errorf("modbus simulator: unit %d: unknown device %q", u, dev)
		}
		if p.Protocol != "modbus" {
			return fmt.Errorf("modbus simulator: unit %d: device %q has %s profile %q", u, dev, p.Protocol, p.Name)
		}
	}
	return nil
}

// Read answers a read of count entries of table from address on device:
// one word per register (or per bit, 0 or 1). A non-zero exception code
// is the Modbus exception to answer instead.
func (s *Simulator) Read(device, table string, address, count uint16) ([]uint16, byte) {
	p := s.src.Profile(device)
	if p == nil {
		return nil, 11 // gateway target device failed to respond
	}
	tab := s.layoutOf(p)[table]
	out := make([]uint16, count)
	for i := range out {
		slots, ok := tab[address+uint16(i)]
		if !ok || int(address)+i > 0xFFFF {
			return nil, 2
		}
		for _, sl := range slots {
			raw, ok := s.src.Raw(device, sl.field.Name)
			if !ok {
				return nil, 4
			}
			words, err := modbus.Encode(sl.field, raw)
			if err != nil {
				s.log.Warn("modbus simulator: cannot encode value", "device", device, "err", err)
				return nil, 4
			}
			out[i] |= words[sl.word]
		}
	}
	return out, 0
}

var simErrors = map[byte]error{
	1:  mbserver.ErrIllegalFunction,
	2:  mbserver.ErrIllegalDataAddress,
	4:  mbserver.ErrServerDeviceFailure,
	11: mbserver.ErrGWTargetFailedToRespond,
}

// tcpHandler serves one listener's unit map.
type tcpHandler struct {
	s     *Simulator
	units map[uint8]string
}

func (h *tcpHandler) read(unit uint8, table string, addr, qty uint16) ([]uint16, error) {
	dev, ok := h.units[unit]
	if !ok {
		return nil, mbserver.ErrGWTargetFailedToRespond
	}
	words, ex := h.s.Read(dev, table, addr, qty)
	if ex != 0 {
		return nil, simErrors[ex]
	}
	return words, nil
}

func bits(words []uint16, err error) ([]bool, error) {
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(words))
	for i, w := range words {
		out[i] = w != 0
	}
	return out, nil
}

func (h *tcpHandler) HandleCoils(r *mbserver.CoilsRequest) ([]bool, error) {
	if r.IsWrite {
		return nil, mbserver.ErrIllegalFunction
	}
	return bits(h.read(r.UnitId, modbus.TableCoil, r.Addr, r.Quantity))
}

func (h *tcpHandler) HandleDiscreteInputs(r *mbserver.DiscreteInputsRequest) ([]bool, error) {
	return bits(h.read(r.UnitId, modbus.TableDiscrete, r.Addr, r.Quantity))
}

func (h *tcpHandler) HandleHoldingRegisters(r *mbserver.HoldingRegistersRequest) ([]uint16, error) {
	if r.IsWrite {
		return nil, mbserver.ErrIllegalFunction
	}
	return h.read(r.UnitId, modbus.TableHolding, r.Addr, r.Quantity)
}

func (h *tcpHandler) HandleInputRegisters(r *mbserver.InputRegistersRequest) ([]uint16, error) {
	return h.read(r.UnitId, modbus.TableInput, r.Addr, r.Quantity)
}

// ListenTCP serves units (unit id → device) as a Modbus TCP server on
// addr ("127.0.0.1:0" picks a free port) and returns the address it
// listens on.
func (s *Simulator) ListenTCP(addr string, units map[uint8]string) (string, error) {
	if err := s.checkUnits(units); err != nil {
		return "", err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("modbus simulator: listen %q: %w", addr, err)
	}
	var lastErr error
	for range 5 {
		at := addr
		if port == "0" {
			// The server cannot report the port it bound, so find a free
			// one first (and try again if someone takes it meanwhile).
			l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				return "", fmt.Errorf("modbus simulator: listen %q: %w", addr, err)
			}
			at = l.Addr().String()
			_ = l.Close()
		}
		srv, err := mbserver.NewServer(&mbserver.ServerConfiguration{
			URL: "tcp://" + at, Timeout: 5 * time.Minute, MaxClients: 1000,
			Logger: log.New(io.Discard, "", 0),
		}, &tcpHandler{s: s, units: units})
		if err != nil {
			return "", fmt.Errorf("modbus simulator: listen %q: %w", at, err)
		}
		if lastErr = srv.Start(); lastErr == nil {
			s.mu.Lock()
			s.tcp = append(s.tcp, srv)
			s.mu.Unlock()
			s.log.Info("modbus simulator listening", "addr", at, "units", unitList(units))
			return at, nil
		}
		if port != "0" {
			break
		}
	}
	return "", fmt.Errorf("modbus simulator: listen %q: %w", addr, lastErr)
}

func unitList(units map[uint8]string) []string {
	out := make([]string, 0, len(units))
	for u, d := range units {
		out = append(out, fmt.Sprintf("%d=%s", u, d))
	}
	sort.Strings(out)
	return out
}

// ServeRTU answers as the Modbus RTU slaves units (unit id → device) on
// the serial port t.Port with t's line settings, until Close. Frames for
// other unit ids are ignored, as on a shared RS-485 bus.
func (s *Simulator) ServeRTU(t collectors.Target, units map[uint8]string) error {
	if err := s.checkUnits(units); err != nil {
		return err
	}
	port, err := serial.Open(&serial.Config{
		Address: t.Port, BaudRate: t.Baud, DataBits: t.DataBits,
		StopBits: t.StopBits, Parity: t.Parity, Timeout: 20 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("modbus simulator: open serial port %s: %w", t.Port, err)
	}
	r := &rtuSlave{s: s, port: port, units: units, stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.rtu = append(s.rtu, r)
	s.mu.Unlock()
	go r.run()
	s.log.Info("modbus simulator serving RTU", "port", t.Port, "units", unitList(units))
	return nil
}

// Close stops every listener and serial slave.
func (s *Simulator) Close() error {
	s.mu.Lock()
	tcp, rtu := s.tcp, s.rtu
	s.tcp, s.rtu = nil, nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range tcp {
		errs = append(errs, srv.Stop())
	}
	for _, r := range rtu {
		close(r.stop)
		<-r.done
		errs = append(errs, r.port.Close())
	}
	return errors.Join(errs...)
}

// rtuSlave is a minimal Modbus RTU slave for function codes 1-4.
type rtuSlave struct {
	s     *Simulator
	port  io.ReadWriteCloser
	units map[uint8]string
	stop  chan struct{}
	done  chan struct{}
}

func (r *rtuSlave) run() {
	defer close(r.done)
	var buf []byte
	chunk := make([]byte, 256)
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		n, err := r.port.Read(chunk)
		if errors.Is(err, serial.ErrTimeout) {
			// A silent line ends any partial frame.
			buf = buf[:0]
			continue
		}
		if err != nil {
			r.s.log.Warn("modbus simulator: serial read", "err", err)
			select {
			case <-r.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= 8 {
			if crc16(buf[:6]) != uint16(buf[6])|uint16(buf[7])<<8 {
				buf = buf[1:] // resynchronise
				continue
			}
			if ans := r.answer(buf[:6]); ans != nil {
				if _, err := r.port.Write(ans); err != nil {
					r.s.log.Warn("modbus simulator: serial write", "err", err)
				}
			}
			buf = buf[8:]
		}
	}
}

// answer builds the reply frame for an 8-byte request (without its CRC),
// or nil when another slave is addressed.
func (r *rtuSlave) answer(req []byte) []byte {
	unit, fc := req[0], req[1]
	dev, ok := r.units[unit]
	if !ok {
		return nil
	}
	addr := uint16(req[2])<<8 | uint16(req[3])
	qty := uint16(req[4])<<8 | uint16(req[5])
	table := modbus.TableOf(fc)
	var words []uint16
	ex := byte(0)
	switch {
	case table == "":
		ex = 1
	case qty == 0 || (modbus.IsBitTable(table) && qty > modbus.MaxBits) || (!modbus.IsBitTable(table) && qty > modbus.MaxRegisters):
		ex = 3
	default:
		words, ex = r.s.Read(dev, table, addr, qty)
	}
	out := []byte{unit, fc}
	switch {
	case ex != 0:
		out = append(out[:1], fc|0x80, ex)
	case modbus.IsBitTable(table):
		data := make([]byte, (len(words)+7)/8)
		for i, w := range words {
			if w != 0 {
				data[i/8] |= 1 << (uint(i) % 8)
			}
		}
		out = append(out, byte(len(data)))
		out = append(out, data...)
	default:
		out = append(out, byte(2*len(words)))
		for _, w := range words {
			out = append(out, byte(w>>8), byte(w))
		}
	}
	c := crc16(out)
	return append(out, byte(c), byte(c>>8))
}

// crc16 is the Modbus RTU CRC (polynomial 0xA001, initial 0xFFFF).
func crc16(b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, x := range b {
		c ^= uint16(x)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
	}
	return c
}
