package modbus_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	goburrow "github.com/goburrow/modbus"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
)

// BenchmarkPollTCP is one poll of the 12-value modbus-ups profile against
// the simulator over Modbus TCP on loopback (client and server in this
// process).
func BenchmarkPollTCP(b *testing.B) {
	store := newStore(b, simDevice{"ups", builtin(b, "modbus-ups"), nil})
	addr := serveTCP(b, store, map[uint8]string{1: "ups"})
	p := newPoller(b, "ups", tcpTarget(addr, 1), builtin(b, "modbus-ups"), 5*time.Second)
	ctx := context.Background()
	if _, err := p.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*12), "ns/value")
}

// BenchmarkPollTCPProcess is BenchmarkPollTCP against a simulator in
// another process, so that cpu-ns/value is the poller's own CPU time
// (user + system, from getrusage) per value.
func BenchmarkPollTCPProcess(b *testing.B) {
	addr := childSim(b, 1)[0]
	p := newPoller(b, "ups", tcpTarget(addr, 1), builtin(b, "modbus-ups"), 5*time.Second)
	ctx := context.Background()
	if _, err := p.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		if _, err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - before
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*12), "cpu-ns/value")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*12), "ns/value")
}

// BenchmarkPollTCPScheduled is BenchmarkPollTCPProcess as the monitor
// polls: each poll under a context of its own with the device's timeout
// (the scheduler's), and one retry (the configuration's default).
func BenchmarkPollTCPScheduled(b *testing.B) {
	addr := childSim(b, 1)[0]
	p, err := modbus.New(collectors.DeviceConfig{
		Device: collectors.Device{Name: "ups"}, Target: tcpTarget(addr, 1), Timeout: 5 * time.Second, Retries: 1,
	}, builtin(b, "modbus-ups"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pollOnce := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	pollOnce()
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		pollOnce()
	}
	cpu := cpuTime(b) - before
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*12), "cpu-ns/value")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBareGoburrow is the floor BenchmarkPollTCPProcess is compared
// with: a bare goburrow client reading the same 20 registers in one
// request, without decoding, deadlines or bus sharing.
func BenchmarkBareGoburrow(b *testing.B) {
	addr := childSim(b, 1)[0]
	h := goburrow.NewTCPClientHandler(addr)
	h.SlaveId = 1
	h.IdleTimeout = 0
	defer h.Close()
	c := goburrow.NewClient(h)
	if _, err := c.ReadHoldingRegisters(0, 20); err != nil {
		b.Fatal(err)
	}
	before := cpuTime(b)
	for b.Loop() {
		if _, err := c.ReadHoldingRegisters(0, 20); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - before
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*12), "cpu-ns/value")
}

// BenchmarkPoll200Devices polls 200 modbus-ups devices (12 values each,
// one TCP port each, served by another process) all at once, as the
// scheduler would every interval; one op is one round of 200 polls.
func BenchmarkPoll200Devices(b *testing.B) {
	const n = 200
	addrs := childSim(b, n)
	pollers := make([]*modbus.Poller, n)
	for i, addr := range addrs {
		pollers[i] = newPoller(b, fmt.Sprint("ups", i), tcpTarget(addr, 1), builtin(b, "modbus-ups"), 5*time.Second)
	}
	ctx := context.Background()
	round := func() {
		var wg sync.WaitGroup
		for _, p := range pollers {
			wg.Go(func() {
				if _, err := p.Poll(ctx); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	round()
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		round()
	}
	cpu := cpuTime(b) - before
	values := float64(b.N * n * 12)
	b.ReportMetric(float64(cpu.Nanoseconds())/values, "cpu-ns/value")
	b.ReportMetric(values/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkNew is what a device costs before its first poll: its poller,
// read plan and (unshared) bus; B/op is the memory each device holds.
func BenchmarkNew(b *testing.B) {
	cfg := collectors.DeviceConfig{Device: collectors.Device{Name: "ups"}, Target: tcpTarget("127.0.0.1:1", 1)}
	p := builtin(b, "modbus-ups")
	b.ReportAllocs()
	for b.Loop() {
		pl, err := modbus.New(cfg, p, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = pl.Close()
		b.StartTimer()
	}
}
