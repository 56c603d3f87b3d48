// Command bare is the floor of `make bench` (issue 12): the same libraries
// roomwatch polls with (gosnmp, goburrow/modbus) plus the InfluxDB client
// (influxdb-client-go/v2, batching WriteAPI), and no logic — no profiles,
// rules, spool or NATS. It does what a minimal client would: one ticker
// wakes it at the top of every interval and every device is polled then,
// all together (SNMP: one GET of the twelve OIDs of bench-ups12; Modbus
// TCP: one read of the twenty holding registers of modbus-ups, decoded into
// its twelve values); each poll is written as one point to InfluxDB. A
// device still busy with its last poll skips the tick, and the skip is
// counted.
//
// The libraries' own costs belong to the floor: gosnmp's Get formats every
// outgoing packet for its debug log (SENDING PACKET: SafeString) whether or
// not a logger is set.
//
// BenchmarkBareSNMP and BenchmarkBareModbus (cmd/roomwatch/bench_test.go)
// build it and measure it as a child process, as they measure `roomwatch
// run`. It lives under testdata so that `go build ./...` leaves it out.
//
// Usage: bare -proto snmp|modbus -interval 1s -influx URL -bucket DB/RP URL...
// (URLs as the benchmark makes them: snmp://host:port?...,
// modbus+tcp://host:port?unit=1). On SIGUSR1 it prints one line
// "stats values=N polls=N errors=N skipped=N write-errors=N" on stdout.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goburrow/modbus"
	"github.com/gosnmp/gosnmp"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
)

// oids are the twelve objects of testdata/bench/profiles/bench-ups12.yaml.
var oids = []string{
	"1.3.6.1.2.1.33.1.4.1.0", "1.3.6.1.2.1.33.1.2.3.0", "1.3.6.1.2.1.33.1.2.4.0",
	"1.3.6.1.2.1.33.1.2.1.0", "1.3.6.1.2.1.33.1.2.5.0", "1.3.6.1.2.1.33.1.2.7.0",
	"1.3.6.1.2.1.33.1.2.2.0", "1.3.6.1.2.1.33.1.6.1.0", "1.3.6.1.2.1.33.1.3.3.1.3.1",
	"1.3.6.1.2.1.33.1.4.4.1.2.1", "1.3.6.1.2.1.33.1.4.4.1.5.1", "1.3.6.1.2.1.33.1.4.2.0",
}

// snmpNames and modbusNames are the field names of the twelve values.
var (
	snmpNames = []string{"on_battery", "runtime_min", "charge_pct", "battery_status", "battery_voltage_v",
		"battery_temp_c", "seconds_on_battery", "alarms_present", "input_voltage_v", "output_voltage_v",
		"load_pct", "output_frequency_hz"}
	modbusNames = []string{"on_battery", "battery_status", "charge_pct", "load_pct", "runtime_min",
		"seconds_on_battery", "battery_voltage_v", "battery_temp_c", "input_voltage_v", "output_voltage_v",
		"input_frequency_hz", "output_frequency_hz"}
)

var values, polls, errs, skipped, writeErrs atomic.Int64

func main() {
	proto := flag.String("proto", "snmp", "snmp or modbus")
	interval := flag.Duration("interval", time.Second, "poll interval of every device")
	influxURL := flag.String("influx", "", "InfluxDB URL")
	bucket := flag.String("bucket", "roomwatch/autogen", "bucket (1.8: database/retention policy)")
	flag.Parse()
	urls := flag.Args()
	if *influxURL == "" || len(urls) == 0 {
		fmt.Fprintln(os.Stderr, "usage: bare -proto snmp|modbus -interval 1s -influx URL [-bucket DB/RP] URL...")
		os.Exit(2)
	}

	client := influxdb2.NewClientWithOptions(*influxURL, "", influxdb2.DefaultOptions().
		SetBatchSize(5000).SetFlushInterval(1000))
	w := client.WriteAPI("", *bucket)
	go func() {
		for range w.Errors() {
			writeErrs.Add(1)
		}
	}()

	ticks := make([]chan time.Time, len(urls))
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bare: device %d: %v\n", i, err)
			os.Exit(2)
		}
		tags := map[string]string{"site": "bench", "room": fmt.Sprintf("r%02d", i/10), "device": fmt.Sprintf("d%03d", i)}
		var poll func(time.Time)
		switch *proto {
		case "snmp":
			poll = snmpPoller(u, tags, *interval, w)
		case "modbus":
			poll = modbusPoller(u, tags, *interval, w)
		default:
			fmt.Fprintf(os.Stderr, "bare: -proto %q: want snmp or modbus\n", *proto)
			os.Exit(2)
		}
		ticks[i] = make(chan time.Time, 1)
		go func() {
			for now := range ticks[i] {
				poll(now)
				polls.Add(1)
			}
		}()
	}
	go tickAll(*interval, ticks)
	fmt.Println("polling", len(urls), "devices")

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, os.Interrupt)
	for s := range sig {
		if s == syscall.SIGUSR1 {
			fmt.Printf("stats values=%d polls=%d errors=%d skipped=%d write-errors=%d\n",
				values.Load(), polls.Load(), errs.Load(), skipped.Load(), writeErrs.Load())
			continue
		}
		w.Flush()
		client.Close()
		return
	}
}

// tickAll hands every device the same tick at each wall-clock multiple of
// interval: one timer wake-up per interval for all the devices. A device
// whose last poll is still running skips the tick.
func tickAll(interval time.Duration, ticks []chan time.Time) {
	time.Sleep(time.Until(time.Now().Truncate(interval).Add(interval)))
	t := time.NewTicker(interval)
	for now := time.Now(); ; now = <-t.C {
		for _, c := range ticks {
			select {
			case c <- now:
			default:
				skipped.Add(1)
			}
		}
	}
}

// snmpPoller connects to the agent at u and returns its poll: one GET of
// the twelve OIDs, written as one point.
func snmpPoller(u *url.URL, tags map[string]string, interval time.Duration, w api.WriteAPI) func(time.Time) {
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	community := u.Query().Get("community")
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: community, Version: gosnmp.Version2c,
		Timeout: interval, Retries: 1, MaxOids: len(oids)}
	if err := g.Connect(); err != nil {
		fmt.Fprintf(os.Stderr, "bare: %s: %v\n", u.Host, err)
		os.Exit(1)
	}
	return func(now time.Time) {
		r, err := g.Get(oids)
		if err != nil {
			errs.Add(1)
			return
		}
		fields := make(map[string]any, len(oids))
		for i, v := range r.Variables {
			if i >= len(snmpNames) || v.Type == gosnmp.NoSuchObject || v.Type == gosnmp.NoSuchInstance {
				continue
			}
			fields[snmpNames[i]] = gosnmp.ToBigInt(v.Value).Int64()
		}
		values.Add(int64(len(fields)))
		w.WritePoint(influxdb2.NewPoint("ups", tags, fields, now))
	}
}

// modbusPoller connects to the Modbus TCP server at u and returns its
// poll: one read of the twenty holding registers, decoded into twelve
// values and written as one point.
func modbusPoller(u *url.URL, tags map[string]string, interval time.Duration, w api.WriteAPI) func(time.Time) {
	h := modbus.NewTCPClientHandler(u.Host)
	h.Timeout = interval
	unit, _ := strconv.Atoi(u.Query().Get("unit"))
	h.SlaveId = byte(unit)
	if err := h.Connect(); err != nil {
		fmt.Fprintf(os.Stderr, "bare: %s: %v\n", u.Host, err)
		os.Exit(1)
	}
	c := modbus.NewClient(h)
	return func(now time.Time) {
		b, err := c.ReadHoldingRegisters(0, 20)
		if err != nil || len(b) != 40 {
			errs.Add(1)
			return
		}
		reg := func(i int) uint16 { return binary.BigEndian.Uint16(b[2*i:]) }
		cdab := func(i int) uint32 { return uint32(reg(i+1))<<16 | uint32(reg(i)) }
		f32 := func(i int) float64 { return float64(math.Float32frombits(cdab(i))) }
		v := []any{reg(0)&(1<<3) != 0, int64(reg(1)), int64(reg(2)), float64(reg(3)) * 0.1,
			int64(int32(cdab(4))), int64(cdab(6)), f32(8), f32(10), f32(12), f32(14), f32(16), f32(18)}
		fields := make(map[string]any, len(v))
		for i, x := range v {
			fields[modbusNames[i]] = x
		}
		values.Add(int64(len(fields)))
		w.WritePoint(influxdb2.NewPoint("ups", tags, fields, now))
	}
}
