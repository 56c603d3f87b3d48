package snmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
)

// The SNMPv1 and v2c exchange: gosnmp encodes the request and decodes the
// answers, the client does the rest. gosnmp's own exchange is left out for
// what it does besides encoding and decoding: it formats the whole packet
// for its debug log on every send (logger or not), allocates per call and
// per try, and lets a request id of 0 through. The client sends a kept
// encoding again while a request stays the same, reuses its read buffer,
// and copies out of it only what an accepted answer keeps.

// readBufs holds the buffers of the reads in progress, one datagram
// each, shared by all devices. A read holds one only during its
// non-blocking read(2), not while it waits for the answer (see
// readAnswer): a pool lent to waiting reads grew to one buffer per
// device, 13 MB for 200 devices polled together.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 65535); return &b }}

// exchange sends one request and returns the answer to it, sending it
// again with a new request id after each try that timed out, up to the
// client's retries.
func (c *client) exchange(ctx context.Context, typ gosnmp.PDUType, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error) {
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	req := c.setRequest(typ, oids, maxRepetitions)
	c.resp.names = &req.names
	// Cleared when the call ends (after unwatch, which may have set a
	// past one): left armed, a try's deadline would fire its timer long
	// after the answer came and wake the process for nothing, once per
	// call of every device.
	defer func() { _ = c.conn.SetReadDeadline(time.Time{}) }()
	defer c.unwatch(c.watch(ctx, c.conn))
	first := c.takeIDs(uint32(c.g.Retries+1)) + 1
	var skip skipped
	var err error
	for try := 0; try <= c.g.Retries; try++ {
		last := first + uint32(try)
		deadline, ctxDeadline := c.tryDeadline(ctx)
		_ = c.conn.SetReadDeadline(deadline)
		// After the deadline is set, so that a cancel is seen either here
		// or by the read.
		if ctx.Err() != nil {
			return nil, skip.wrap(ctx.Err())
		}
		var out []byte
		if out, err = req.encode(last); err != nil {
			continue
		}
		var pkt *gosnmp.SnmpPacket
		if pkt, err = c.await(out, try == 0, first, last, &skip); err == nil {
			return pkt, nil
		}
		if isTimeout(err) && (ctxDeadline || ctx.Err() != nil) {
			if ctx.Err() != nil {
				return nil, skip.wrap(ctx.Err())
			}
			return nil, skip.wrap(context.DeadlineExceeded)
		}
	}
	if isTimeout(err) {
		err = fmt.Errorf("request timeout (after %d retries): %w", c.g.Retries, gosnmp.ErrMaxRetriesExceeded)
	}
	return nil, skip.wrap(err)
}

// dial opens the device's connected UDP socket, once: the kernel then
// delivers only datagrams from the polled host:port.
func (c *client) dial(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	addr := net.JoinHostPort(c.g.Target, strconv.Itoa(int(c.g.Port)))
	// DialContext rather than DialUDP: a host name is looked up under ctx.
	conn, err := (&net.Dialer{}).DialContext(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	raw, err := conn.(*net.UDPConn).SyscallConn()
	if err != nil {
		conn.Close()
		return fmt.Errorf("connect: %w", err)
	}
	c.conn, c.raw = conn.(*net.UDPConn), raw
	return nil
}

// request is one encoded request. The client keeps the last few it
// sent and sends one again while the calls ask the same: a device's
// scalars, the fallbacks of an object it lacks, the first GETBULK of its
// tables, poll after poll.
type request struct {
	pkt   gosnmp.SnmpPacket // Variables keeps its array for the next call
	out   []byte            // pkt encoded, nil until sent
	idAt  int               // where out holds the request id
	names []knownName       // of the last answer to it (response.names)
	used  uint64            // when it was last asked for (client.calls)
}

// setRequest returns the request of one call, filled: a kept one that
// asks the same, else the least recently used one, filled anew.
func (c *client) setRequest(typ gosnmp.PDUType, oids []string, maxRepetitions uint32) *request {
	maxRepetitions &= 0x7FFFFFFF
	c.calls++
	r := &c.reqs[0]
	for i := range c.reqs {
		k := &c.reqs[i]
		if k.out != nil && k.pkt.PDUType == typ && k.pkt.MaxRepetitions == maxRepetitions && sameOIDs(k.pkt.Variables, oids) {
			k.used = c.calls
			return k
		}
		if k.used < r.used {
			r = k
		}
	}
	vars := r.pkt.Variables[:0]
	for _, oid := range oids {
		vars = append(vars, gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Null})
	}
	r.pkt = gosnmp.SnmpPacket{
		Version: c.g.Version, Community: c.g.Community, PDUType: typ,
		MaxRepetitions: maxRepetitions, Variables: vars,
	}
	r.out, r.names, r.used = nil, r.names[:0], c.calls
	return r
}

func sameOIDs(vars []gosnmp.SnmpPDU, oids []string) bool {
	if len(vars) != len(oids) {
		return false
	}
	for i := range oids {
		if vars[i].Name != oids[i] {
			return false
		}
	}
	return true
}

// tryDeadline is when the current try ends: one try's share of the
// timeout, or ctx's deadline if that comes first (then ctxDeadline).
func (c *client) tryDeadline(ctx context.Context) (deadline time.Time, ctxDeadline bool) {
	deadline = time.Now().Add(c.g.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		return d, true
	}
	return deadline, false
}

// encode returns r encoded with request id id. gosnmp encodes it once;
// while it stays the same, only the 4 bytes of its id are rewritten
// (request ids are at least minID, so their BER encoding always takes 4
// bytes and nothing else moves).
func (r *request) encode(id uint32) ([]byte, error) {
	if r.out != nil {
		binary.BigEndian.PutUint32(r.out[r.idAt:], id)
		return r.out, nil
	}
	r.pkt.RequestID = id
	out, err := r.pkt.MarshalMsg()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.pkt.PDUType, err)
	}
	if at, ok := requestIDAt(out); ok && binary.BigEndian.Uint32(out[at:]) == id {
		r.out, r.idAt = out, at
	}
	return out, nil
}

// requestIDAt returns where the 4 content bytes of the request id are in
// an encoded v1/v2c message, SEQUENCE { version, community,
// PDU { request-id, … } }, or false if they are not there.
func requestIDAt(msg []byte) (int, bool) {
	i := 0
	for _, enter := range [...]bool{true, false, false, true} {
		n, hdr, ok := berHeader(msg[i:])
		if !ok {
			return 0, false
		}
		i += hdr
		if !enter {
			i += n
		}
		if i > len(msg) {
			return 0, false
		}
	}
	if i+6 > len(msg) || msg[i] != 0x02 || msg[i+1] != 4 {
		return 0, false
	}
	return i + 2, true
}

// berHeader reads a BER tag and length: the length of the content and the
// size of the header.
func berHeader(b []byte) (n, hdr int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	if b[1] < 0x80 {
		return int(b[1]), 2, true
	}
	k := int(b[1] & 0x7F)
	if k == 0 || k > 3 || len(b) < 2+k {
		return 0, 0, false
	}
	for _, x := range b[2 : 2+k] {
		n = n<<8 | int(x)
	}
	return n, 2 + k, true
}

// await sends out, then reads datagrams until one answers a request id
// in first..last or the read deadline passes. It skips, and counts in
// skip, all the others. fresh says that no answer to this call can be
// there yet (the call's first try).
func (c *client) await(out []byte, fresh bool, first, last uint32, skip *skipped) (*gosnmp.SnmpPacket, error) {
	c.send = sending{out, fresh}
	defer func() { c.send = sending{} }()
	for {
		if err := c.raw.Read(c.readFn); err != nil {
			return nil, err
		}
		got := c.read
		c.read = readResult{}
		if got.sockErr != nil {
			return nil, got.sockErr
		}
		pkt, err := got.pkt, got.decodeErr
		switch {
		case err != nil:
			skip.add(err)
		case pkt.PDUType != gosnmp.GetResponse:
			skip.add(fmt.Errorf("answer with PDU type %s", pkt.PDUType))
		case pkt.RequestID < first || pkt.RequestID > last:
			skip.add(fmt.Errorf("%w: got %d", ErrBadRequestID, pkt.RequestID))
		default:
			return pkt, nil
		}
	}
}

// sending is the request readAnswer sends before it reads.
type sending struct {
	out []byte
	// fresh: no answer to the call can be there yet, so the read waits
	// for a datagram to come instead of trying at once (a read(2) that
	// would only say EAGAIN). A retry reads at once: the answer to an
	// earlier try may have come in between.
	fresh bool
}

// readResult is what readAnswer read.
type readResult struct {
	pkt       *gosnmp.SnmpPacket
	decodeErr error // the datagram is not an answer
	sockErr   error // the socket's error, sending or reading
}

// readAnswer is the function the client passes to its socket's
// RawConn.Read (as readFn), which calls it until it returns true and
// waits, between calls, until a datagram comes or the read deadline
// passes. It sends c.send's request, if any, then reads one datagram from
// the socket fd, if one is there, into a buffer of readBufs and decodes
// it into c.read. The buffer is held only during the read(2), not while
// RawConn.Read waits.
//
// The request is sent from here, after RawConn.Read has begun to watch
// the socket, so that an answer coming at once is not missed when the
// first read is skipped (sending.fresh).
func (c *client) readAnswer(fd uintptr) bool {
	if out := c.send.out; out != nil {
		c.send.out = nil
		if err := c.write(fd, out); err != nil {
			c.read.sockErr = err
			return true
		}
		if c.send.fresh {
			return false
		}
	}
	buf := readBufs.Get().(*[]byte)
	defer readBufs.Put(buf)
	for {
		n, err := syscall.Read(int(fd), *buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			c.read.sockErr = c.opError("read", err)
		default:
			c.read.pkt, c.read.decodeErr = c.decode((*buf)[:n])
		}
		return true
	}
}

// write sends one datagram on the socket fd; if the socket cannot take
// it at once, through conn, which waits until it can.
func (c *client) write(fd uintptr, out []byte) error {
	for {
		_, err := syscall.Write(int(fd), out)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			_, err = c.conn.Write(out)
			return err
		case err != nil:
			return c.opError("write", err)
		}
		return nil
	}
}

// opError is a failed system call op on the socket, as net reports it.
func (c *client) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

// decode decodes one datagram: the client's own decoder takes the
// answers it expects, gosnmp's the rest. The values of the packet
// returned do not point into b.
func (c *client) decode(b []byte) (*gosnmp.SnmpPacket, error) {
	if c.resp.decodeResponse(b, c.g.Community) {
		return &c.resp.pkt, nil
	}
	pkt, err := c.decodeGosnmp(b)
	if err != nil {
		return nil, err
	}
	detach(pkt)
	return pkt, nil
}

// decodeGosnmp decodes one datagram with gosnmp. A panic in the decoder
// on a malformed datagram is an error, not the end of the process.
func (c *client) decodeGosnmp(b []byte) (pkt *gosnmp.SnmpPacket, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkt, err = nil, fmt.Errorf("undecodable answer: %v", r)
		}
	}()
	// For v1 and v2c, SnmpDecodePacket's parameter check is a few field
	// tests; the cost is the decoding itself.
	pkt, err = c.g.SnmpDecodePacket(b)
	if err != nil {
		return nil, fmt.Errorf("undecodable answer: %w", err)
	}
	return pkt, nil
}

// detach copies the values that gosnmp's decoder leaves pointing into the
// read buffer (octet strings, opaque), which the next read overwrites.
func detach(pkt *gosnmp.SnmpPacket) {
	for i := range pkt.Variables {
		if b, ok := pkt.Variables[i].Value.([]byte); ok {
			pkt.Variables[i].Value = bytes.Clone(b)
		}
	}
}

// isTimeout tells a read that reached its deadline (the try's, or the
// past one set by watch) from other socket errors.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// skipped counts the datagrams a call read but did not take as its
// answer, and keeps why the last one was skipped.
type skipped struct {
	n    int
	last error
}

func (s *skipped) add(why error) { s.n, s.last = s.n+1, why }

// wrap adds what was skipped to the error that ends a call.
func (s *skipped) wrap(err error) error {
	if s.n == 0 {
		return err
	}
	return fmt.Errorf("%w; skipped %d datagrams not answering the request, the last: %w", err, s.n, s.last)
}
