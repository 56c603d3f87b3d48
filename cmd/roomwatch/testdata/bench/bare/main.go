// Command bare is the floor of `make bench` (issue 12): the same libraries
// roomwatch polls with (gosnmp, goburrow/modbus) plus the InfluxDB client
// (influxdb-client-go/v2, batching WriteAPI), and no logic — no profiles,
// rules, spool or NATS. Every device is polled every interval (SNMP: one
// GET of the twelve OIDs of bench-ups12; Modbus TCP: one read of the
// twenty holding registers of modbus-ups, decoded into its twelve values)
// and each poll is written as one point to InfluxDB.
//
// BenchmarkBareSNMP and BenchmarkBareModbus (cmd/roomwatch/bench_test.go)
// build it and measure it as a child process, as they measure `roomwatch
// run`. It lives under testdata so that `go build ./...` leaves it out.
//
// Usage: bare -proto snmp|modbus -interval 1s -influx URL -bucket DB/RP URL...
// (URLs as the benchmark makes them: snmp://host:port?...,
// modbus+tcp://host:port?unit=1). On SIGUSR1 it prints one line
// "stats values=N polls=N errors=N write-errors=N" on stdout.
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

var values, polls, errs, writeErrs atomic.Int64

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

	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bare: device %d: %v\n", i, err)
			os.Exit(2)
		}
		tags := map[string]string{"site": "bench", "room": fmt.Sprintf("r%02d", i/10), "device": fmt.Sprintf("d%03d", i)}
		// Spread the devices' phases evenly over the interval.
		phase := time.Duration(i) * *interval / time.Duration(len(urls))
		switch *proto {
		case "snmp":
			go pollSNMP(u, tags, phase, *interval, w)
		case "modbus":
			go pollModbus(u, tags, phase, *interval, w)
		default:
			fmt.Fprintf(os.Stderr, "bare: -proto %q: want snmp or modbus\n", *proto)
			os.Exit(2)
		}
	}
	fmt.Println("polling", len(urls), "devices")

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, os.Interrupt)
	for s := range sig {
		if s == syscall.SIGUSR1 {
			fmt.Printf("stats values=%d polls=%d errors=%d write-errors=%d\n",
				values.Load(), polls.Load(), errs.Load(), writeErrs.Load())
			continue
		}
		w.Flush()
		client.Close()
		return
	}
}

// every calls f at phase and then every interval (skipping missed ticks).
func every(phase, interval time.Duration, f func(time.Time)) {
	time.Sleep(phase)
	t := time.NewTicker(interval)
	for now := range t.C {
		f(now)
	}
}

func pollSNMP(u *url.URL, tags map[string]string, phase, interval time.Duration, w api.WriteAPI) {
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	community := u.Query().Get("community")
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: community, Version: gosnmp.Version2c,
		Timeout: interval, Retries: 1, MaxOids: len(oids)}
	if err := g.Connect(); err != nil {
		fmt.Fprintf(os.Stderr, "bare: %s: %v\n", u.Host, err)
		os.Exit(1)
	}
	every(phase, interval, func(now time.Time) {
		polls.Add(1)
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
	})
}

func pollModbus(u *url.URL, tags map[string]string, phase, interval time.Duration, w api.WriteAPI) {
	h := modbus.NewTCPClientHandler(u.Host)
	h.Timeout = interval
	unit, _ := strconv.Atoi(u.Query().Get("unit"))
	h.SlaveId = byte(unit)
	if err := h.Connect(); err != nil {
		fmt.Fprintf(os.Stderr, "bare: %s: %v\n", u.Host, err)
		os.Exit(1)
	}
	c := modbus.NewClient(h)
	every(phase, interval, func(now time.Time) {
		polls.Add(1)
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
	})
}
