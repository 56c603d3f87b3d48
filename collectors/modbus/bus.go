package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/goburrow/modbus"
	"github.com/goburrow/serial"

	"github.com/roomwatch/roomwatch/collectors"
)

// A bus is one Modbus line shared by every device on it: a serial port
// (RS-485 is half duplex: one transaction at a time) or a TCP gateway
// (concurrency 1 per host:port). It holds one goburrow client; the slave
// id is set per transaction while the bus is held.
type bus struct {
	key      string
	settings string // serial line settings, to refuse conflicting devices
	sem      chan struct{}
	refs     int // guarded by registry.mu

	tr     transport
	client modbus.Client
	// setUnit sets the goburrow packager's slave id.
	setUnit func(uint8)
	// scratch is reused for decoded words while the bus is held.
	scratch []uint16
}

// transport is a goburrow Transporter that honours the context of the
// transaction in flight and can drop its connection after a failure.
type transport interface {
	modbus.Transporter
	setContext(ctx context.Context)
	// reset drops the connection so the next transaction starts clean.
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
		h := modbus.NewRTUClientHandler(t.Port)
		tr := &rtuTransport{cfg: serial.Config{
			Address: t.Port, BaudRate: t.Baud, DataBits: t.DataBits,
			StopBits: t.StopBits, Parity: t.Parity, Timeout: serialSlice,
		}}
		b.tr, b.setUnit = tr, func(u uint8) { h.SlaveId = u }
		b.client = modbus.NewClient2(h, tr)
		return b
	}
	h := modbus.NewTCPClientHandler(t.Host)
	tr := &tcpTransport{addr: t.Host}
	b.tr, b.setUnit = tr, func(u uint8) { h.SlaveId = u }
	b.client = modbus.NewClient2(h, tr)
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
	return b.tr.close()
}

// acquire waits for the bus; the wait counts against ctx.
func (b *bus) acquire(ctx context.Context) error {
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
func (b *bus) read(ctx context.Context, unit uint8, table string, start, count uint16) ([]uint16, error) {
	b.setUnit(unit)
	b.tr.setContext(ctx)
	defer b.tr.setContext(nil)
	var res []byte
	var err error
	switch table {
	case TableCoil:
		res, err = b.client.ReadCoils(start, count)
	case TableDiscrete:
		res, err = b.client.ReadDiscreteInputs(start, count)
	case TableHolding:
		res, err = b.client.ReadHoldingRegisters(start, count)
	case TableInput:
		res, err = b.client.ReadInputRegisters(start, count)
	default:
		return nil, fmt.Errorf("unknown table %q", table)
	}
	var me *modbus.ModbusError
	if errors.As(err, &me) {
		if me.FunctionCode == functionCodes[table]|0x80 {
			return nil, &exceptionError{code: me.ExceptionCode}
		}
		err = fmt.Errorf("answer has function code %d, want %d", me.FunctionCode, functionCodes[table])
	}
	if err == nil {
		want := int(count) * 2
		if IsBitTable(table) {
			want = (int(count) + 7) / 8
		}
		if len(res) != want {
			err = fmt.Errorf("answer has %d data bytes, want %d", len(res), want)
		}
	}
	if err != nil {
		b.tr.reset()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
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

// txContext holds the context of the transaction in flight; both
// transports embed it.
type txContext struct{ ctx context.Context }

func (t *txContext) setContext(ctx context.Context) { t.ctx = ctx }

// current returns the transaction's context and its error, if it has
// already ended.
func (t *txContext) current() (context.Context, error) {
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return ctx, ctx.Err()
}

// tcpTransport is Modbus TCP on one connection, redialled after any
// failure. The connection deadline is the context's; cancelling the
// context interrupts a read in flight.
type tcpTransport struct {
	txContext
	addr string
	conn net.Conn
	buf  [260]byte
}

func (t *tcpTransport) Send(adu []byte) ([]byte, error) {
	ctx, err := t.current()
	if err != nil {
		return nil, err
	}
	if t.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", t.addr)
		if err != nil {
			return nil, err
		}
		t.conn = c
	}
	conn := t.conn
	dl, _ := ctx.Deadline()
	if err := conn.SetDeadline(dl); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(adu); err != nil {
		return nil, err
	}
	// One read usually brings the whole answer; only one request is ever
	// outstanding, so more bytes than the frame mean the stream is out of
	// step.
	got, err := io.ReadAtLeast(conn, t.buf[:], 7)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(t.buf[4:6]))
	if n < 2 || n > len(t.buf)-6 {
		return nil, fmt.Errorf("answer header length %d out of range", n)
	}
	if got > 6+n {
		return nil, fmt.Errorf("%d bytes after the answer", got-6-n)
	}
	if _, err := io.ReadFull(conn, t.buf[got:6+n]); err != nil {
		return nil, err
	}
	return t.buf[:6+n], nil
}

func (t *tcpTransport) reset() { _ = t.close() }

func (t *tcpTransport) close() error {
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	return err
}

// serialSlice is how long one serial read waits before the transport
// checks the context again.
const serialSlice = 10 * time.Millisecond

// rtuTransport is Modbus RTU on a serial port, reopened after a failure
// and drained of any late answer before the next request.
type rtuTransport struct {
	txContext
	cfg   serial.Config
	port  io.ReadWriteCloser
	dirty bool
	buf   [256]byte
}

func (t *rtuTransport) Send(adu []byte) ([]byte, error) {
	ctx, err := t.current()
	if err != nil {
		return nil, err
	}
	if t.port == nil {
		p, err := serial.Open(&t.cfg)
		if err != nil {
			return nil, err
		}
		t.port = p
	}
	if t.dirty {
		if err := t.drain(ctx); err != nil {
			return nil, err
		}
		t.dirty = false
	}
	if _, err := t.port.Write(adu); err != nil {
		return nil, err
	}
	need := rtuAnswerLen(adu)
	n := 0
	for n < need {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := t.port.Read(t.buf[n:need])
		if errors.Is(err, serial.ErrTimeout) {
			continue
		}
		if err != nil {
			return nil, err
		}
		n += m
		if n >= 2 && t.buf[1]&0x80 != 0 {
			need = 5
		}
	}
	return t.buf[:n], nil
}

// drain discards bytes until the line is quiet for one read slice.
func (t *rtuTransport) drain(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := t.port.Read(t.buf[:])
		if errors.Is(err, serial.ErrTimeout) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// rtuAnswerLen is the length of a normal answer to request adu.
func rtuAnswerLen(adu []byte) int {
	count := int(binary.BigEndian.Uint16(adu[4:6]))
	switch adu[1] {
	case 1, 2:
		return 5 + (count+7)/8
	case 3, 4:
		return 5 + 2*count
	}
	return 5
}

func (t *rtuTransport) reset() {
	_ = t.close()
	t.dirty = true
}

func (t *rtuTransport) close() error {
	if t.port == nil {
		return nil
	}
	err := t.port.Close()
	t.port = nil
	return err
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
