package snmp

import (
	"context"
	"syscall"
	"testing"
	"time"
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
