package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/goburrow/modbus"
)

// Modbus TCP framing: an MBAP header (transaction id, protocol id 0,
// length of what follows, unit id) before the PDU (function code, data).
const (
	mbapLen    = 7             // header, unit id included
	tcpMaxADU  = mbapLen + 253 // a PDU is at most 253 bytes
	tcpReqLen  = mbapLen + 5   // a read request: function code, start, count
	tcpMinBody = 2             // unit id and function code
)

// pastDeadline ends an I/O call in flight at once.
var pastDeadline = time.Unix(1, 0)

// tcpLine is Modbus TCP on one connection, redialled after any failure.
// It frames the requests itself, in a buffer of its own, so a read
// allocates nothing. The connection deadline is the context's;
// cancelling the context interrupts a read in flight.
type tcpLine struct {
	addr string
	conn net.Conn
	// interrupt ends the I/O in flight on conn; made once per connection
	// for context.AfterFunc.
	interrupt func()
	tid       uint16
	// buf holds the request, then the answer.
	buf [tcpMaxADU]byte
}

func (t *tcpLine) read(w within, unit, fc byte, start, count uint16) ([]byte, error) {
	if err := w.err(); err != nil {
		return nil, err
	}
	dl := w.deadline()
	if t.conn == nil {
		if err := t.dial(w.ctx, dl); err != nil {
			return nil, err
		}
	}
	if err := t.conn.SetDeadline(dl); err != nil {
		return nil, err
	}
	t.tid++
	req := t.buf[:tcpReqLen]
	binary.BigEndian.PutUint16(req[0:], t.tid)
	binary.BigEndian.PutUint16(req[2:], 0)
	binary.BigEndian.PutUint16(req[4:], tcpReqLen-6)
	req[6], req[7] = unit, fc
	binary.BigEndian.PutUint16(req[8:], start)
	binary.BigEndian.PutUint16(req[10:], count)
	adu, err := t.exchange(w.ctx, req)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// Name the poll's or the attempt's deadline, or the
		// cancellation, rather than the socket's timeout.
		return nil, w.expired()
	}
	if err != nil {
		return nil, err
	}
	return checkAnswer(adu, t.tid, unit, fc)
}

// exchange writes req and reads its answer frame; ctx's end interrupts
// it.
func (t *tcpLine) exchange(ctx context.Context, req []byte) ([]byte, error) {
	stop := context.AfterFunc(ctx, t.interrupt)
	_, err := t.conn.Write(req)
	var adu []byte
	if err == nil {
		adu, err = t.readADU()
	}
	if !stop() && err == nil {
		// ctx ended just as the answer came: its interrupt, running
		// now, could yet set a past deadline on conn under the next
		// request. That one starts on a new connection.
		t.reset()
	}
	return adu, err
}

func (t *tcpLine) dial(ctx context.Context, deadline time.Time) error {
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return err
	}
	t.conn = c
	t.interrupt = func() { _ = c.SetDeadline(pastDeadline) }
	return nil
}

// readADU reads one answer frame into buf. One read usually brings it
// whole; the rest is read when it comes in parts. Only one request is
// ever outstanding, so bytes beyond the frame mean the stream is out of
// step.
func (t *tcpLine) readADU() ([]byte, error) {
	got, err := io.ReadAtLeast(t.conn, t.buf[:], mbapLen)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(t.buf[4:6]))
	if n < tcpMinBody || n > len(t.buf)-6 {
		return nil, fmt.Errorf("answer header length %d out of range", n)
	}
	if got > 6+n {
		return nil, fmt.Errorf("%d bytes after the answer", got-6-n)
	}
	if _, err := io.ReadFull(t.conn, t.buf[got:6+n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the frame has begun
		}
		return nil, err
	}
	return t.buf[:6+n], nil
}

// checkAnswer checks that adu answers request tid to unit with function
// code fc and returns its data bytes. An answer with another function
// code (an exception) is a *modbus.ModbusError.
func checkAnswer(adu []byte, tid uint16, unit, fc byte) ([]byte, error) {
	if got := binary.BigEndian.Uint16(adu[0:]); got != tid {
		return nil, fmt.Errorf("answer has transaction id %d, want %d", got, tid)
	}
	if got := binary.BigEndian.Uint16(adu[2:]); got != 0 {
		return nil, fmt.Errorf("answer has protocol id %d, want 0", got)
	}
	if adu[6] != unit {
		return nil, fmt.Errorf("answer has unit id %d, want %d", adu[6], unit)
	}
	pdu := adu[mbapLen:]
	if pdu[0] != fc {
		me := &modbus.ModbusError{FunctionCode: pdu[0]}
		if len(pdu) > 1 {
			me.ExceptionCode = pdu[1]
		}
		return nil, me
	}
	if len(pdu) < 2 {
		return nil, fmt.Errorf("answer has no byte count")
	}
	if int(pdu[1]) != len(pdu)-2 {
		return nil, fmt.Errorf("answer byte count %d, but %d data bytes follow", pdu[1], len(pdu)-2)
	}
	return pdu[2:], nil
}

func (t *tcpLine) reset() { _ = t.close() }

func (t *tcpLine) close() error {
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn, t.interrupt = nil, nil
	return err
}
