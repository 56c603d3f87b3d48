package snmp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode decodes the recorded rfc1628-ups response (17 values,
// three-line tables included).
func BenchmarkDecode(b *testing.B) {
	p := builtin(b, "rfc1628-ups")
	r := ResponseFromWalk(p, readWalk(b, "testdata/rfc1628-ups.snmpwalk"))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(Decode(p, &r, nil))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
}

// BenchmarkPollSnmpd is one poll against net-snmp snmpd, another process,
// so cpu-µs/value is the poller's own CPU per decoded value.
func BenchmarkPollSnmpd(b *testing.B) {
	for _, name := range []string{"rfc1628-ups", "apc-ups"} {
		b.Run(name, func(b *testing.B) {
			addr := runSnmpd(b, "rocommunity public 127.0.0.1\n"+overrides(b, "testdata/"+name+".snmpwalk"))
			benchPoll(b, addr, name)
		})
	}
}

// benchPoll measures polls of the profile name's device at addr over v2c.
func benchPoll(b *testing.B, addr, name string) {
	cfg := testConfig("2c")
	cfg.Target.Host = addr
	pl, err := New(cfg, builtin(b, name), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pl.Close()
	benchPoller(b, pl)
}

// benchPoller measures polls of pl.
func benchPoller(b *testing.B, pl *Poller) {
	ctx := context.Background()
	s, err := pl.Poll(ctx) // connect, warm up
	if err != nil {
		b.Fatal(err)
	}
	values := len(s.Values)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := pl.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*values), "cpu-µs/value")
	b.ReportMetric(float64(values), "values/poll")
}

// BenchmarkBareGosnmpSnmpd is the floor: a bare gosnmp client sending the
// apc-ups profile's 10 OIDs in one GET to snmpd, no decoding.
func BenchmarkBareGosnmpSnmpd(b *testing.B) {
	addr := runSnmpd(b, "rocommunity public 127.0.0.1\n"+overrides(b, "testdata/apc-ups.snmpwalk"))
	p := builtin(b, "apc-ups")
	oids := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		oids[i] = f.OID
	}
	cfg := testConfig("2c")
	cfg.Target.Host = addr
	c, err := newClient(cfg.Target, 2*time.Second, 1)
	if err != nil {
		b.Fatal(err)
	}
	g := c.g
	if err := g.Connect(); err != nil {
		b.Fatal(err)
	}
	defer g.Conn.Close()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := g.Get(oids); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*len(oids)), "cpu-µs/value")
}

// BenchmarkPollSnmpdParallel polls 200 devices (one snmpd listening on
// 200 loopback ports, each port a device) from 200 goroutines, the shape
// of the 200-device workload: cpu-µs/value is the pollers' CPU per value.
func BenchmarkPollSnmpdParallel(b *testing.B) {
	const devices = 200
	name := "apc-ups"
	addrs := runSnmpdPorts(b, "rocommunity public 127.0.0.1\n"+overrides(b, "testdata/"+name+".snmpwalk"), devices)
	pool := make(chan *Poller, devices)
	for _, addr := range addrs {
		cfg := testConfig("2c")
		cfg.Target.Host = addr
		pl, err := New(cfg, builtin(b, name), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer pl.Close()
		if _, err := pl.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		pool <- pl
	}
	values := len(builtin(b, name).Fields)
	b.ReportAllocs()
	b.SetParallelism(devices / 2)
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		pl := <-pool
		defer func() { pool <- pl }()
		for pb.Next() {
			if _, err := pl.Poll(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*values), "cpu-µs/value")
	b.ReportMetric(float64(b.N*values)/b.Elapsed().Seconds(), "values/s")
}

// benchProfile is the whole-monitor benchmark's profile (12 scalar
// RFC 1628 objects, one GET), so that the micro-benchmarks below poll
// what BenchmarkPollOnlySNMP polls.
const benchProfile = "../../cmd/roomwatch/testdata/bench/profiles/bench-ups12.yaml"

func loadBenchProfile(b *testing.B) *profiles.Profile {
	b.Helper()
	data, err := os.ReadFile(benchProfile)
	if err != nil {
		b.Fatal(err)
	}
	p, err := profiles.Parse(benchProfile, data)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// cannedAgent answers every request on a loopback socket with one
// recorded GetResponse, its request id set to the request's, and
// allocates nothing per answer: what a benchmark counts per op is the
// poller's.
func cannedAgent(b *testing.B, answer []byte) string {
	b.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	at, ok := requestIDAt(answer)
	if !ok {
		b.Fatal("canned answer: no 4-byte request id")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		out := bytes.Clone(answer)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if id, ok := requestIDAt(buf[:n]); ok {
				copy(out[at:at+4], buf[id:id+4])
				_, _ = conn.WriteToUDPAddrPort(out, from)
			}
		}
	}()
	b.Cleanup(func() { conn.Close(); <-done })
	return conn.LocalAddr().String()
}

// BenchmarkPollBench12 polls the benchmark profile's 12 values over v2c
// from an in-process canned agent (no snmpd latency or scheduling in the
// way): allocs/op and B/op are the poll path's own.
func BenchmarkPollBench12(b *testing.B) {
	p := loadBenchProfile(b)
	resp := gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: minID}
	for i := range p.Fields {
		resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: p.Fields[i].OID, Type: gosnmp.Integer, Value: 2})
	}
	answer, err := resp.MarshalMsg()
	if err != nil {
		b.Fatal(err)
	}
	pl := v2cPoller(b, p, cannedAgent(b, answer))
	ctx := context.Background()
	s, err := pl.Poll(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range s.Values {
		if v.Quality != collectors.Good {
			b.Fatalf("%s: %s %s", v.Name, v.Quality, v.Err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := pl.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollSnmpdBench12 polls the benchmark profile's 12 values from
// snmpd, as BenchmarkPollOnlySNMP does for 200 devices.
func BenchmarkPollSnmpdBench12(b *testing.B) {
	p := loadBenchProfile(b)
	var conf strings.Builder
	conf.WriteString("rocommunity public 127.0.0.1\n")
	for i := range p.Fields {
		fmt.Fprintf(&conf, "override %s integer 2\n", p.Fields[i].OID)
	}
	benchPoller(b, v2cPoller(b, p, runSnmpd(b, conf.String())))
}

// v2cPoller is a v2c poller of profile p at addr, closed at cleanup.
func v2cPoller(b *testing.B, p *profiles.Profile, addr string) *Poller {
	b.Helper()
	cfg := testConfig("2c")
	cfg.Target.Host = addr
	pl, err := New(cfg, p, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pl.Close() })
	return pl
}
