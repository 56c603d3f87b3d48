package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/goburrow/modbus"
	"github.com/goburrow/serial"

	"github.com/roomwatch/roomwatch/collectors"
)

// rtuLine is Modbus RTU on a serial port: a goburrow client that frames
// the requests and checks the answers over an rtuTransport.
type rtuLine struct {
	handler *modbus.RTUClientHandler
	tr      *rtuTransport
	client  modbus.Client
}

func newRTULine(t collectors.Target) *rtuLine {
	h := modbus.NewRTUClientHandler(t.Port)
	tr := &rtuTransport{cfg: serial.Config{
		Address: t.Port, BaudRate: t.Baud, DataBits: t.DataBits,
		StopBits: t.StopBits, Parity: t.Parity, Timeout: serialSlice,
	}}
	return &rtuLine{handler: h, tr: tr, client: modbus.NewClient2(h, tr)}
}

func (l *rtuLine) read(w within, unit, fc byte, start, count uint16) ([]byte, error) {
	l.handler.SlaveId = unit
	l.tr.w = w
	defer func() { l.tr.w = within{} }()
	switch fc {
	case modbus.FuncCodeReadCoils:
		return l.client.ReadCoils(start, count)
	case modbus.FuncCodeReadDiscreteInputs:
		return l.client.ReadDiscreteInputs(start, count)
	case modbus.FuncCodeReadHoldingRegisters:
		return l.client.ReadHoldingRegisters(start, count)
	case modbus.FuncCodeReadInputRegisters:
		return l.client.ReadInputRegisters(start, count)
	}
	return nil, fmt.Errorf("function code %d is not a read", fc)
}

func (l *rtuLine) reset() { l.tr.reset() }

func (l *rtuLine) close() error { return l.tr.close() }

// serialSlice is how long one serial read waits before the transport
// checks the context again.
const serialSlice = 10 * time.Millisecond

// rtuTransport is Modbus RTU on a serial port, reopened after a failure
// and drained of any late answer before the next request.
type rtuTransport struct {
	// w bounds the transaction in flight.
	w     within
	cfg   serial.Config
	port  io.ReadWriteCloser
	dirty bool
	buf   [256]byte
}

func (t *rtuTransport) Send(adu []byte) ([]byte, error) {
	w := t.w
	if w.ctx == nil {
		w.ctx = context.Background()
	}
	if err := w.err(); err != nil {
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
		if err := t.drain(w); err != nil {
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
		if err := w.err(); err != nil {
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
func (t *rtuTransport) drain(w within) error {
	for {
		if err := w.err(); err != nil {
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
