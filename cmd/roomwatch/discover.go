package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/discover"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/termtable"
)

// runDiscover scans a subnet for SNMP agents and Modbus TCP units:
// `roomwatch discover CIDR [--community C | --v3 USER --auth SHA --priv AES]
// [--modbus] [--rate N] [--concurrency N]`. It prints a table and a
// devices snippet for the configuration.
func runDiscover(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	community := fs.String("community", "", "SNMPv1/v2c community (default: $"+collectors.EnvCommunity+", else public)")
	version := fs.String("version", "2c", "SNMP version for --community: 1 or 2c")
	v3user := fs.String("v3", "", "SNMPv3 user (passwords from $"+collectors.EnvAuthPass+" and $"+collectors.EnvPrivPass+")")
	auth := fs.String("auth", "", "SNMPv3 auth protocol: MD5, SHA, SHA224, SHA256, SHA384, SHA512")
	priv := fs.String("priv", "", "SNMPv3 privacy protocol: DES, AES, AES192, AES256")
	noSNMP := fs.Bool("no-snmp", false, "do not probe SNMP")
	snmpPort := fs.Int("snmp-port", 161, "SNMP UDP port")
	withModbus := fs.Bool("modbus", false, "also probe Modbus TCP")
	modbusPort := fs.Int("modbus-port", 502, "Modbus TCP port")
	units := fs.String("units", "1-8", "Modbus unit ids to try on each open port: 1-8, or 1,2,10")
	rate := fs.Float64("rate", discover.DefaultRate, "requests per second, all hosts together")
	conc := fs.Int("concurrency", discover.DefaultConcurrency, "hosts probed at once")
	timeout := fs.Duration("timeout", discover.DefaultTimeout, "wait for each answer")
	force := fs.Bool("force", false, fmt.Sprintf("scan a range of more than %d addresses (a /22)", discover.MaxHosts))
	dir := fs.String("profiles-dir", "", "directory of user profiles")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: roomwatch discover CIDR [--community C | --v3 USER --auth SHA256 --priv AES] [--modbus] [--rate N] [--concurrency N]")
		fs.PrintDefaults()
	}
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int { return report(stderr, "discover", err) }
	switch {
	case *rate <= 0 || *rate > 1000:
		return fail(fmt.Errorf("--rate %g: want 0 < rate <= 1000 requests per second", *rate))
	case *conc < 1 || *conc > 256:
		return fail(fmt.Errorf("--concurrency %d: want 1..256", *conc))
	case *timeout <= 0:
		return fail(fmt.Errorf("--timeout %v: must be positive", *timeout))
	case *noSNMP && !*withModbus:
		return fail(fmt.Errorf("--no-snmp without --modbus probes nothing"))
	}
	hosts, err := discover.Hosts(pos[0], *force)
	if err != nil {
		return fail(err)
	}
	set, err := profiles.Load(*dir)
	if err != nil {
		return fail(err)
	}
	sc := &discover.Scanner{
		Profiles: set, Timeout: *timeout, Concurrency: *conc,
		Limiter: discover.NewLimiter(*rate, nil),
	}
	if !*noSNMP {
		t, err := snmpTemplate(*snmpPort, *version, *community, *v3user, *auth, *priv)
		if err != nil {
			return fail(err)
		}
		sc.SNMP = &t
	}
	if *withModbus {
		if sc.Units, err = parseUnits(*units); err != nil {
			return fail(err)
		}
		sc.ModbusPort = *modbusPort
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	found, err := sc.Scan(ctx, hosts)
	printDiscovered(stdout, found, len(hosts), time.Since(start))
	fmt.Fprintln(stdout)
	discover.Snippet(stdout, found, set)
	if err != nil {
		return fail(fmt.Errorf("scan stopped: %w", err))
	}
	return 0
}

// snmpTemplate builds the SNMP target every host is probed with, through
// ParseTarget so that secrets come from the environment as for probe.
func snmpTemplate(port int, version, community, user, auth, priv string) (collectors.Target, error) {
	q := url.Values{}
	u := &url.URL{Scheme: collectors.SchemeSNMP, Host: "0.0.0.0:" + strconv.Itoa(port)}
	if user != "" {
		if community != "" {
			return collectors.Target{}, fmt.Errorf("--community and --v3 exclude each other")
		}
		u.User = url.User(user)
		q.Set("version", "3")
		if auth != "" {
			q.Set("auth", auth)
		}
		if priv != "" {
			q.Set("priv", priv)
		}
	} else {
		if auth != "" || priv != "" {
			return collectors.Target{}, fmt.Errorf("--auth and --priv need --v3 USER")
		}
		q.Set("version", version)
		if community != "" {
			q.Set("community", community)
		}
	}
	u.RawQuery = q.Encode()
	return collectors.ParseTarget(u.String())
}

// parseUnits reads "1-8" or "1,2,10" as Modbus unit ids (0..247).
func parseUnits(s string) ([]uint8, error) {
	var out []uint8
	bad := fmt.Errorf("--units %q: want unit ids 0..247 such as 1-8 or 1,2,10", s)
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, bad
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, bad
			}
		}
		if a < 0 || b > 247 || a > b {
			return nil, bad
		}
		for u := a; u <= b; u++ {
			out = append(out, uint8(u))
		}
	}
	return out, nil
}

// printDiscovered prints what answered as a table, Chinese first.
func printDiscovered(w io.Writer, found []discover.Found, hosts int, took time.Duration) {
	fmt.Fprintf(w, "扫描 %d 个地址，用时 %s，发现 %d 台设备 (scanned %d addresses in %s, found %d)\n\n",
		hosts, took.Round(100*time.Millisecond), len(found), hosts, took.Round(100*time.Millisecond), len(found))
	if len(found) == 0 {
		return
	}
	var t termtable.Table
	t.Row("地址 address", "协议 protocol", "识别为 profile", "设备名 sysName", "描述 sysDescr / Modbus 站号 units")
	for _, f := range found {
		switch {
		case f.Identity != nil:
			prof := f.Identity.ProfileName()
			if prof == "" {
				prof = "未识别 unknown (" + orDash(f.Identity.SysObjectID) + ")"
			}
			t.Row(f.Target.Host, "SNMP", prof, orDash(f.Identity.SysName), orDash(shorten(f.Identity.SysDescr, 60)))
		default:
			ids := make([]string, len(f.Units))
			for i, u := range f.Units {
				ids[i] = strconv.Itoa(int(u))
			}
			detail := "站号 units " + strings.Join(ids, ",")
			if len(ids) == 0 {
				detail = "端口开放，无站号应答 (port open, no unit answered)"
			}
			t.Row(f.Target.Host, "Modbus TCP", "需手动选择 choose", "-", detail)
		}
	}
	_, _ = t.WriteTo(w)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
