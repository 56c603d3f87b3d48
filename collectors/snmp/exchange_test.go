package snmp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// scripted is an agent whose answers a test writes: answer gets the k-th
// request it received (k from 0) and where it came from, and returns the
// datagrams to send back.
func scripted(t *testing.T, answer func(k int, req *gosnmp.SnmpPacket, from net.Addr) [][]byte) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
		buf := make([]byte, 65535)
		for k := 0; ; k++ {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil {
				t.Errorf("agent: %v", err)
				return
			}
			for _, out := range answer(k, req, from) {
				_, _ = conn.WriteTo(out, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return conn.LocalAddr().String()
}

// reply encodes an answer to req with each varbind set to value,
// changed by edit.
func reply(t *testing.T, req *gosnmp.SnmpPacket, value any, edit func(*gosnmp.SnmpPacket)) []byte {
	t.Helper()
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	for _, v := range req.Variables {
		pdu := gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Integer, Value: value}
		if _, ok := value.(string); ok {
			pdu.Type = gosnmp.OctetString
		}
		resp.Variables = append(resp.Variables, pdu)
	}
	if edit != nil {
		edit(resp)
	}
	out, err := resp.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func scriptedClient(t *testing.T, addr, version string, timeout time.Duration, retries int) *client {
	t.Helper()
	cfg := testConfig(version)
	cfg.Target.Host = addr
	c, err := newClient(cfg.Target, timeout, retries)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const testOID = "1.3.6.1.2.1.33.1.2.1.0"

// TestLateAnswerToEarlierTry: the agent answers the first try only after
// the retry is out; that answer is the call's answer.
func TestLateAnswerToEarlierTry(t *testing.T) {
	var first *gosnmp.SnmpPacket
	var firstID atomic.Uint32
	addr := scripted(t, func(k int, req *gosnmp.SnmpPacket, _ net.Addr) [][]byte {
		if k == 0 {
			first = req // held back until the retry comes
			firstID.Store(req.RequestID)
			return nil
		}
		return [][]byte{reply(t, first, 7, nil)}
	})
	c := scriptedClient(t, addr, "2c", 400*time.Millisecond, 1)
	pkt, err := c.Get(context.Background(), []string{testOID})
	if err != nil {
		t.Fatal(err)
	}
	if pkt.RequestID != firstID.Load() || pkt.Variables[0].Value != 7 {
		t.Fatalf("answer %d %+v, want the answer to the first try, %d", pkt.RequestID, pkt.Variables, firstID.Load())
	}
}

// TestJunkDoesNotEndTry: datagrams that are not the answer (garbage, the
// wrong PDU type or request id) are skipped without ending the
// try or sending the request again, and the answer behind them counts.
func TestJunkDoesNotEndTry(t *testing.T) {
	junk := func(t *testing.T, req *gosnmp.SnmpPacket) [][]byte {
		return [][]byte{
			[]byte("not SNMP at all"),
			{0x30, 0x03, 0x02, 0x01},
			reply(t, req, 1, func(p *gosnmp.SnmpPacket) { p.PDUType = gosnmp.GetRequest }),
			reply(t, req, 2, func(p *gosnmp.SnmpPacket) { p.PDUType = gosnmp.SNMPv2Trap }),
			reply(t, req, 3, func(p *gosnmp.SnmpPacket) { p.PDUType = gosnmp.Report }),
			reply(t, req, 4, func(p *gosnmp.SnmpPacket) { p.RequestID = 0 }),
			reply(t, req, 5, func(p *gosnmp.SnmpPacket) { p.RequestID++ }),
		}
	}
	t.Run("answer after junk", func(t *testing.T) {
		var requests atomic.Int32
		addr := scripted(t, func(k int, req *gosnmp.SnmpPacket, _ net.Addr) [][]byte {
			requests.Add(1)
			return append(junk(t, req), reply(t, req, 42, nil))
		})
		c := scriptedClient(t, addr, "2c", time.Second, 0)
		pkt, err := c.Get(context.Background(), []string{testOID})
		if err != nil {
			t.Fatal(err)
		}
		if pkt.Variables[0].Value != 42 || pkt.RequestID == 0 {
			t.Fatalf("answer %d %+v", pkt.RequestID, pkt.Variables)
		}
		if n := requests.Load(); n != 1 {
			t.Fatalf("%d requests sent, want 1", n)
		}
	})
	t.Run("junk only", func(t *testing.T) {
		var requests atomic.Int32
		addr := scripted(t, func(k int, req *gosnmp.SnmpPacket, _ net.Addr) [][]byte {
			requests.Add(1)
			return junk(t, req)
		})
		c := scriptedClient(t, addr, "2c", 400*time.Millisecond, 1)
		start := time.Now()
		_, err := c.Get(context.Background(), []string{testOID})
		took := time.Since(start)
		if err == nil {
			t.Fatal("accepted junk")
		}
		if n := requests.Load(); n != 2 || took < 400*time.Millisecond {
			t.Fatalf("%d requests in %v: want 2 tries, each to its deadline", n, took)
		}
		for _, want := range []string{"request timeout (after 1 retries)", "skipped 14 datagrams", "request id does not match"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q, want %q", err, want)
			}
		}
		if !errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || !errors.Is(err, ErrBadRequestID) {
			t.Fatalf("error %v: want ErrMaxRetriesExceeded and ErrBadRequestID", err)
		}
	})
}

// TestAnswersOutliveTheReadBuffer: the octet strings of an answer's
// varbinds, kept by the caller (Transport), stay as they were after the
// next requests reuse the read buffer and the packet.
func TestAnswersOutliveTheReadBuffer(t *testing.T) {
	addr := scripted(t, func(k int, req *gosnmp.SnmpPacket, _ net.Addr) [][]byte {
		return [][]byte{reply(t, req, strings.Repeat(string(rune('a'+k)), 8), nil)}
	})
	c := scriptedClient(t, addr, "1", time.Second, 0)
	first, err := c.Get(context.Background(), []string{testOID})
	if err != nil {
		t.Fatal(err)
	}
	kept := first.Variables[0]
	for range 2 {
		if _, err := c.Get(context.Background(), []string{testOID}); err != nil {
			t.Fatal(err)
		}
	}
	if got := kept.Value.([]byte); !bytes.Equal(got, []byte("aaaaaaaa")) {
		t.Fatalf("first answer now %q", got)
	}
}

// TestDeadlineAndCancelErrors: a call ended by ctx returns ctx's error,
// as gosnmp did, so that the poll's deadline shows as such.
func TestDeadlineAndCancelErrors(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	c := scriptedClient(t, hole.LocalAddr().String(), "2c", time.Minute, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, []string{testOID}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: error %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.Get(ctx, []string{testOID}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: error %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("cancelled call took %v", took)
	}

	// The next call is not cut short by the cancel of the last one.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Get(ctx, []string{testOID}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after cancel: error %v", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("call after a cancel ended after %v", took)
	}
}

// TestEncodeReuse: a request encoded once and sent again with another
// request id is byte for byte what gosnmp encodes for that id, and a
// changed request is encoded anew.
func TestEncodeReuse(t *testing.T) {
	many := make([]string, 40)
	for i := range many {
		many[i] = "1.3.6.1.4.1.318.1.1.1.2.2." + strconv.Itoa(i) + ".0"
	}
	for _, tc := range []struct {
		name, version string
		typ           gosnmp.PDUType
		oids          []string
		reps          uint32
	}{
		{"v1 get", "1", gosnmp.GetRequest, []string{testOID}, 0},
		{"v2c getnext", "2c", gosnmp.GetNextRequest, []string{testOID, "1.3.6.1.2.1.1.3.0"}, 0},
		{"v2c getbulk", "2c", gosnmp.GetBulkRequest, []string{"1.3.6.1.2.1.33.1.4.4.1.2"}, 300},
		{"v2c get 40, long lengths", "2c", gosnmp.GetRequest, many, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptedClient(t, "127.0.0.1:161", tc.version, time.Second, 0)
			r := c.setRequest(tc.typ, tc.oids, tc.reps)
			for _, id := range []uint32{minID + 1, 0x01020304, 0x7FFFFFFE, minID + 2} {
				got, err := r.encode(id)
				if err != nil {
					t.Fatal(err)
				}
				want := r.pkt
				want.RequestID = id
				wantOut, err := want.MarshalMsg()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, wantOut) {
					t.Fatalf("id %#x: sent\n% x\nwant\n% x", id, got, wantOut)
				}
				if r.out == nil {
					t.Fatal("encoding not kept")
				}
			}
			if c.setRequest(tc.typ, tc.oids, tc.reps).out == nil {
				t.Fatal("same request encoded anew")
			}
			if c.setRequest(tc.typ, tc.oids, tc.reps+1).out != nil {
				t.Fatal("changed max-repetitions kept the old encoding")
			}
			c.setRequest(tc.typ, tc.oids, tc.reps).encode(minID)
			if c.setRequest(tc.typ, tc.oids[:len(tc.oids)-1], tc.reps).out != nil {
				t.Fatal("changed request kept its old encoding")
			}
		})
	}
}

// TestWaitingReadsHoldNoBuffer: calls waiting for their answers hold no
// read buffer (a 64 KB buffer per waiting call was 13 MB for 200
// devices polled together).
func TestWaitingReadsHoldNoBuffer(t *testing.T) {
	const calls = 64
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC() // and the pool's victims
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	clients := make([]*client, calls)
	for i := range clients {
		clients[i] = scriptedClient(t, hole.LocalAddr().String(), "2c", time.Minute, 0)
	}
	before := heap()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { _, _ = c.Get(ctx, []string{testOID}) })
	}
	buf := make([]byte, 1500)
	for range calls { // every request is out, its call waiting
		if _, _, err := hole.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	during := heap()
	cancel()
	wg.Wait()
	if grew := int64(during) - int64(before); grew > calls*65535/4 {
		t.Errorf("heap grew by %d bytes while %d calls waited", grew, calls)
	}
}

// TestEncodeReuseAlternating: two requests asked in turn, as a poll's
// GET and the GET of an object's fallbacks, both stay encoded.
func TestEncodeReuseAlternating(t *testing.T) {
	c := scriptedClient(t, "127.0.0.1:161", "2c", time.Second, 0)
	a, b := []string{testOID, "1.3.6.1.2.1.1.3.0"}, []string{"1.3.6.1.4.1.318.1.1.1.2.2.1.0"}
	for round := range 3 {
		for _, oids := range [][]string{a, b} {
			r := c.setRequest(gosnmp.GetRequest, oids, 0)
			if round > 0 && r.out == nil {
				t.Fatalf("round %d: %v encoded anew", round, oids)
			}
			if _, err := r.encode(minID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
