package modbus_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
)

// twoRegs is read as holding registers 0..1 in one request.
const twoRegs = `
name: two-regs
class: test
protocol: modbus
values:
  - {name: a, table: holding, address: 0, type: uint16}
  - {name: b, table: holding, address: 1, type: uint16}
`

// goodAnswer is the right answer to a request for holding registers,
// register i holding 10 + i (a = 10, b = 11).
func goodAnswer(req []byte) []byte {
	start, count := binary.BigEndian.Uint16(req[8:]), binary.BigEndian.Uint16(req[10:])
	a := []byte{req[0], req[1], 0, 0, 0, byte(3 + 2*count), req[6], 3, byte(2 * count)}
	for i := range count {
		a = binary.BigEndian.AppendUint16(a, 10+start+i)
	}
	return a
}

// segment is part of an answer, written after a pause.
type segment struct {
	pause time.Duration
	b     []byte
}

// scriptedServer answers each Modbus TCP request with the segments
// script returns for it (n counts requests from 1 over all connections),
// closing the connection after them when hangUp is set.
func scriptedServer(t *testing.T, script func(n int, req []byte) (segs []segment, hangUp bool)) (addr string, conns func() int) {
	t.Helper()
	var mu sync.Mutex
	requests := 0
	return serveConns(t, func(c net.Conn) {
		defer c.Close()
		for {
			req, err := readFrame(c)
			if err != nil {
				return
			}
			mu.Lock()
			requests++
			n := requests
			mu.Unlock()
			segs, hangUp := script(n, req)
			for _, s := range segs {
				time.Sleep(s.pause)
				if _, err := c.Write(s.b); err != nil {
					return
				}
			}
			if hangUp {
				return
			}
		}
	})
}

// TestTCPFraming: answers that come in parts are read whole; an answer
// that is not the request's (wrong ids, function code, lengths, bytes
// beyond it, cut short, none at all) loses the poll, names what was
// wrong, and the next poll starts on a new connection.
func TestTCPFraming(t *testing.T) {
	whole := func(b []byte) []segment { return []segment{{0, b}} }
	edit := func(f func(a []byte) []byte) func(req []byte) ([]segment, bool) {
		return func(req []byte) ([]segment, bool) { return whole(f(goodAnswer(req))), false }
	}
	pause := 20 * time.Millisecond
	cases := []struct {
		name   string
		answer func(req []byte) ([]segment, bool)
		// want is part of the poll's error; "" means the poll succeeds.
		want string
	}{
		{"whole", edit(func(a []byte) []byte { return a }), ""},
		{"split after the header", func(req []byte) ([]segment, bool) {
			a := goodAnswer(req)
			return []segment{{0, a[:7]}, {pause, a[7:]}}, false
		}, ""},
		{"split inside the header", func(req []byte) ([]segment, bool) {
			a := goodAnswer(req)
			return []segment{{0, a[:3]}, {pause, a[3:9]}, {pause, a[9:]}}, false
		}, ""},
		{"trailing garbage", edit(func(a []byte) []byte { return append(a, 0xDE, 0xAD) }), "2 bytes after the answer"},
		{"cut short, then closed", func(req []byte) ([]segment, bool) {
			return whole(goodAnswer(req)[:10]), true
		}, "unexpected EOF"},
		{"closed before the header", func(req []byte) ([]segment, bool) {
			return whole(goodAnswer(req)[:4]), true
		}, "unexpected EOF"},
		{"transaction id", edit(func(a []byte) []byte { a[1]++; return a }), "transaction id"},
		{"protocol id", edit(func(a []byte) []byte { a[3] = 1; return a }), "answer has protocol id 1, want 0"},
		{"unit id", edit(func(a []byte) []byte { a[6] = 9; return a }), "answer has unit id 9, want 1"},
		{"function code", edit(func(a []byte) []byte { a[7] = 4; return a }), "answer has function code 4, want 3"},
		{"header length zero", edit(func(a []byte) []byte { a[5] = 0; return a }), "answer header length 0 out of range"},
		{"header length too long", edit(func(a []byte) []byte { a[4] = 1; return a }), "answer header length 263 out of range"},
		{"no byte count", edit(func(a []byte) []byte { a[5] = 2; return a[:8] }), "answer has no byte count"},
		{"byte count", edit(func(a []byte) []byte { a[8] = 6; return a }), "answer byte count 6, but 4 data bytes follow"},
		{"too few registers", edit(func(a []byte) []byte {
			a[5], a[8] = 5, 2
			return a[:11]
		}), "answer has 2 data bytes, want 4"},
		{"silence", func([]byte) ([]segment, bool) { return nil, false }, "context deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, conns := scriptedServer(t, func(n int, req []byte) ([]segment, bool) {
				if n == 1 {
					return c.answer(req)
				}
				return whole(goodAnswer(req)), false
			})
			p := newPoller(t, "d", tcpTarget(addr, 1), parseProfile(t, twoRegs), 300*time.Millisecond)
			s, err := p.Poll(context.Background())
			if c.want == "" {
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
				checkSet(t, s, map[string]string{"a": "10", "b": "11"})
			} else {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("poll: err %v, want one saying %q", err, c.want)
				}
				if s.Values[0].Quality != collectors.CommsLost || s.Err == "" {
					t.Errorf("failed poll's set: %+v", s)
				}
			}
			for i := range 2 {
				s, err := p.Poll(context.Background())
				if err != nil {
					t.Fatalf("poll %d: %v", i+2, err)
				}
				checkSet(t, s, map[string]string{"a": "10", "b": "11"})
			}
			want := 1
			if c.want != "" {
				want = 2
			}
			if got := conns(); got != want {
				t.Errorf("%d connections, want %d", got, want)
			}
		})
	}
}

// TestTCPExceptionKeepsConnection: an exception answer is a sensor fault
// of the values asked for, and the connection stays in use.
func TestTCPExceptionKeepsConnection(t *testing.T) {
	addr, conns := scriptedServer(t, func(n int, req []byte) ([]segment, bool) {
		if n <= 3 {
			return []segment{{0, []byte{req[0], req[1], 0, 0, 0, 3, req[6], 0x83, 4}}}, false
		}
		return []segment{{0, goodAnswer(req)}}, false
	})
	p := newPoller(t, "d", tcpTarget(addr, 1), parseProfile(t, twoRegs), time.Second)
	s := poll(t, p) // the block, then each value alone: all refused
	for _, v := range s.Values {
		want := "holding register " + map[string]string{"a": "0", "b": "1"}[v.Name] + ": exception 4 (server device failure)"
		if v.Quality != collectors.SensorFault || v.Err != want {
			t.Errorf("%s = %v %q, want a sensor fault %q", v.Name, v.Quality, v.Err, want)
		}
	}
	checkSet(t, poll(t, p), map[string]string{"a": "10", "b": "11"})
	if got := conns(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}

// TestTCPLateGarbage: bytes that come after an answer read in parts stay
// in the stream; the next poll reads them before its answer, fails, and
// the one after it starts on a new connection.
func TestTCPLateGarbage(t *testing.T) {
	addr, conns := scriptedServer(t, func(n int, req []byte) ([]segment, bool) {
		a := goodAnswer(req)
		if n == 1 {
			return []segment{{0, a[:7]}, {20 * time.Millisecond, append(a[7:], 0xDE, 0xAD)}}, false
		}
		return []segment{{0, a}}, false
	})
	p := newPoller(t, "d", tcpTarget(addr, 1), parseProfile(t, twoRegs), time.Second)
	checkSet(t, poll(t, p), map[string]string{"a": "10", "b": "11"})
	time.Sleep(20 * time.Millisecond) // the garbage has arrived
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("poll after the garbage succeeded")
	}
	checkSet(t, poll(t, p), map[string]string{"a": "10", "b": "11"})
	if got := conns(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// TestTCPRetry: with one retry, a request left unanswered is given up
// at half the poll's timeout and asked again on a new connection; a
// device that never answers fails the poll at its timeout, naming the
// deadline.
func TestTCPRetry(t *testing.T) {
	const timeout = 400 * time.Millisecond
	newRetrying := func(t *testing.T, addr string) *modbus.Poller {
		p, err := modbus.New(collectors.DeviceConfig{
			Device: collectors.Device{Name: "d"}, Target: tcpTarget(addr, 1), Timeout: timeout, Retries: 1,
		}, parseProfile(t, twoRegs), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		return p
	}
	t.Run("second attempt answered", func(t *testing.T) {
		addr, conns := scriptedServer(t, func(n int, req []byte) ([]segment, bool) {
			if n == 1 {
				return nil, false
			}
			return []segment{{0, goodAnswer(req)}}, false
		})
		p := newRetrying(t, addr)
		start := time.Now()
		checkSet(t, poll(t, p), map[string]string{"a": "10", "b": "11"})
		if took := time.Since(start); took < timeout/2 || took >= timeout {
			t.Errorf("poll took %v, want the first attempt's %v and a quick second", took, timeout/2)
		}
		if got := conns(); got != 2 {
			t.Errorf("%d connections, want 2", got)
		}
	})
	t.Run("never answered", func(t *testing.T) {
		addr, conns := scriptedServer(t, func(int, []byte) ([]segment, bool) { return nil, false })
		p := newRetrying(t, addr)
		start := time.Now()
		_, err := p.Poll(context.Background())
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("poll: %v, want the deadline", err)
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("poll gave up after %v, before its timeout %v", took, timeout)
		}
		if got := conns(); got != 2 {
			t.Errorf("%d connections, want 2 (one per attempt)", got)
		}
	})
}
