package modbus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/goburrow/modbus"

	"github.com/roomwatch/roomwatch/collectors"
)

// A bus is one Modbus line shared by every device on it: a serial port
// (RS-485 is half duplex: one transaction at a time) or a TCP gateway
// (concurrency 1 per host:port). The unit id is set per transaction while
// the bus is held.
type bus struct {
	key      string
	settings string // serial line settings, to refuse conflicting devices
	sem      chan struct{}
	refs     int // guarded by registry.mu

	line line
	// scratch is reused for decoded words while the bus is held.
	scratch []uint16
}

// line carries one read request at a time to a unit and returns its
// answer, over Modbus TCP (tcp.go) or RTU (rtu.go).
type line interface {
	// read sends unit the request of function code fc for count
	// registers or bits from start, within w, and returns the answer's
	// data bytes (after the byte count), valid until the next read. An
	// answer with another function code (an exception) is a
	// *modbus.ModbusError.
	read(w within, unit, fc byte, start, count uint16) ([]byte, error)
	// reset drops the connection so the next request starts clean.
	reset()
	close() error
}

// registry shares buses between pollers.
var registry = struct {
	mu    sync.Mutex
	buses map[string]*bus
}{buses: map[string]*bus{}}

func busKey(t collectors.Target) string {
	if t.Scheme == collectors.SchemeModbusRTU {
		return "rtu:" + t.Port
	}
	return "tcp:" + t.Host
}

func serialSettings(t collectors.Target) string {
	return fmt.Sprintf("%d %d%s%d", t.Baud, t.DataBits, t.Parity, t.StopBits)
}

// openBus returns the shared bus for t, creating it (without I/O) if no
// other poller holds it.
func openBus(t collectors.Target) (*bus, error) {
	key := busKey(t)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if b, ok := registry.buses[key]; ok {
		if t.Scheme == collectors.SchemeModbusRTU && b.settings != serialSettings(t) {
			return nil, fmt.Errorf("serial port %s: other devices use it at %s, not %s", t.Port, b.settings, serialSettings(t))
		}
		b.refs++
		return b, nil
	}
	b := newBus(t)
	b.refs = 1
	registry.buses[key] = b
	return b, nil
}

// newBus builds an unshared bus for t.
func newBus(t collectors.Target) *bus {
	b := &bus{key: busKey(t), sem: make(chan struct{}, 1)}
	if t.Scheme == collectors.SchemeModbusRTU {
		b.settings = serialSettings(t)
		b.line = newRTULine(t)
		return b
	}
	b.line = &tcpLine{addr: t.Host}
	return b
}

// release drops one poller's hold; the last one closes the connection.
func (b *bus) release() error {
	registry.mu.Lock()
	b.refs--
	last := b.refs == 0
	if last && registry.buses[b.key] == b {
		delete(registry.buses, b.key)
	}
	registry.mu.Unlock()
	if !last {
		return nil
	}
	// Wait for a transaction in flight (bounded by its own deadline).
	b.sem <- struct{}{}
	defer func() { <-b.sem }()
	return b.line.close()
}

// acquire waits for the bus; the wait counts against ctx.
func (b *bus) acquire(ctx context.Context) error {
	select {
	case b.sem <- struct{}{}:
		return nil
	default: // taken: wait, and only then watch ctx
	}
	select {
	case b.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for bus %s: %w", b.key, context.Cause(ctx))
	}
}

func (b *bus) unlock() { <-b.sem }

// exceptionError is a Modbus exception answer: the device is there but
// refuses this read.
type exceptionError struct{ code byte }

func (e *exceptionError) Error() string {
	return fmt.Sprintf("exception %d (%s)", e.code, exceptionName(e.code))
}

func exceptionName(code byte) string {
	switch code {
	case modbus.ExceptionCodeIllegalFunction:
		return "illegal function"
	case modbus.ExceptionCodeIllegalDataAddress:
		return "illegal data address"
	case modbus.ExceptionCodeIllegalDataValue:
		return "illegal data value"
	case modbus.ExceptionCodeServerDeviceFailure:
		return "server device failure"
	case modbus.ExceptionCodeAcknowledge:
		return "acknowledge"
	case modbus.ExceptionCodeServerDeviceBusy:
		return "server device busy"
	case modbus.ExceptionCodeMemoryParityError:
		return "memory parity error"
	case modbus.ExceptionCodeGatewayPathUnavailable:
		return "gateway path unavailable"
	case modbus.ExceptionCodeGatewayTargetDeviceFailedToRespond:
		return "gateway target device failed to respond"
	}
	return "unknown"
}

var functionCodes = map[string]byte{TableCoil: 1, TableDiscrete: 2, TableHolding: 3, TableInput: 4}

// TableOf is the table that read function code fc addresses, "" for any
// other code.
func TableOf(fc byte) string {
	for table, code := range functionCodes {
		if code == fc {
			return table
		}
	}
	return ""
}

// read performs one read on a held bus and returns one word per register
// or bit, valid until the next read. A Modbus exception comes back as
// *exceptionError; any other failure (timeout, wrong transaction id,
// framing) drops the connection, so a late answer can never be taken for
// the next request's.
func (b *bus) read(w within, unit uint8, table string, start, count uint16) ([]uint16, error) {
	fc := functionCodes[table]
	if fc == 0 {
		return nil, fmt.Errorf("unknown table %q", table)
	}
	res, err := b.line.read(w, unit, fc, start, count)
	if err != nil { // errors.As only here: its target escapes, costing an allocation
		var me *modbus.ModbusError
		if errors.As(err, &me) {
			if me.FunctionCode == fc|0x80 {
				return nil, &exceptionError{code: me.ExceptionCode}
			}
			err = fmt.Errorf("answer has function code %d, want %d", me.FunctionCode, fc)
		}
	} else {
		want := int(count) * 2
		if IsBitTable(table) {
			want = (int(count) + 7) / 8
		}
		if len(res) != want {
			err = fmt.Errorf("answer has %d data bytes, want %d", len(res), want)
		}
	}
	if err != nil {
		b.line.reset()
		if w.ctx.Err() != nil {
			return nil, context.Cause(w.ctx)
		}
		return nil, err
	}
	if IsBitTable(table) {
		b.scratch = unpackBits(res, int(count), b.scratch[:0])
	} else {
		b.scratch = unpackRegisters(res, b.scratch[:0])
	}
	return b.scratch, nil
}

// ExceptionCode returns the Modbus exception code err carries, if the
// device answered with an exception.
func ExceptionCode(err error) (byte, bool) {
	var e *exceptionError
	if errors.As(err, &e) {
		return e.code, true
	}
	return 0, false
}
