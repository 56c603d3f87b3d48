package snmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// overrides turns a recorded walk into snmpd `override` lines, so snmpd
// serves exactly the recorded values; skip lists OIDs to leave out.
func overrides(t testing.TB, walkFile string, skip ...string) string {
	t.Helper()
	var b strings.Builder
next:
	for _, p := range readWalk(t, walkFile) {
		for _, s := range skip {
			if trimDot(p.Name) == s {
				continue next
			}
		}
		switch p.Type {
		case gosnmp.Integer:
			fmt.Fprintf(&b, "override %s integer %d\n", p.Name, p.Value)
		case gosnmp.Gauge32:
			fmt.Fprintf(&b, "override %s unsigned %d\n", p.Name, p.Value)
		case gosnmp.Counter32:
			fmt.Fprintf(&b, "override %s counter %d\n", p.Name, p.Value)
		case gosnmp.TimeTicks:
			fmt.Fprintf(&b, "override %s timeticks %d\n", p.Name, p.Value)
		case gosnmp.OctetString:
			fmt.Fprintf(&b, "override %s octet_str %q\n", p.Name, p.Value)
		default:
			t.Fatalf("%s: no snmpd override type for %s", p.Name, p.Type)
		}
	}
	return b.String()
}

// runSnmpd starts snmpd with conf (plus a readiness community) on a free
// loopback port, waits until it answers, and stops it at cleanup. It
// returns host:port.
func runSnmpd(t testing.TB, conf string) string { return runSnmpdPorts(t, conf, 1)[0] }

// runSnmpdPorts is runSnmpd listening on n ports (each port a device).
func runSnmpdPorts(t testing.TB, conf string, n int) []string {
	t.Helper()
	bin := testutil.NeedProgram(t, "snmpd", "install the Debian package snmpd")
	dir := t.TempDir()
	conf = "rocommunity ready 127.0.0.1\n" + conf
	if err := os.WriteFile(filepath.Join(dir, "snmpd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		addrs := freeUDPAddrs(t, n)
		listen := "udp:" + strings.Join(addrs, ",udp:")
		var out syncBuffer
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", filepath.Join(dir, "snmpd.conf"),
			"-p", filepath.Join(dir, "snmpd.pid"), listen)
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir, "SNMPCONFPATH="+dir, "MIBDIRS="+dir, "MIBS=")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start snmpd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if waitSnmpd(addrs[0], exited) && waitSnmpd(addrs[n-1], exited) {
			t.Cleanup(stop)
			return addrs
		}
		stop()
		t.Logf("snmpd did not come up (attempt %d): %s", attempt+1, lastLines(out.String(), 5))
	}
	t.Fatal("snmpd did not start")
	return nil
}

// freeUDPAddrs returns n distinct loopback UDP addresses that were free a
// moment ago (all held open together so that none repeats).
func freeUDPAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	held := make([]net.PacketConn, n)
	for i := range held {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held[i], addrs[i] = c, c.LocalAddr().String()
	}
	for _, c := range held {
		c.Close()
	}
	return addrs
}

// syncBuffer is a bytes.Buffer safe for the writes of a child process's
// output goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitSnmpd polls the readiness community until snmpd answers, it exits,
// or 10 s pass.
func waitSnmpd(addr string, exited <-chan struct{}) bool {
	host, port, _ := net.SplitHostPort(addr)
	var p uint16
	fmt.Sscan(port, &p)
	g := &gosnmp.GoSNMP{Target: host, Port: p, Community: "ready", Version: gosnmp.Version2c, Timeout: 100 * time.Millisecond, Retries: 0}
	if err := g.Connect(); err != nil {
		return false
	}
	defer g.Conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if _, err := g.Get([]string{"1.3.6.1.2.1.1.3.0"}); err == nil {
			return true
		}
	}
	return false
}

func snmpdConfig(t testing.TB, addr, version string) collectors.DeviceConfig {
	cfg := testConfig(version)
	cfg.Target.Host = addr
	cfg.Timeout = 5 * time.Second
	return cfg
}

func pollOnce(t *testing.T, cfg collectors.DeviceConfig, profile string) (collectors.SampleSet, error) {
	t.Helper()
	pl, err := New(cfg, builtin(t, profile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	return pl.Poll(context.Background())
}

// TestSnmpdV2c reads the UPS-MIB values, three-line input and output
// tables included (GETBULK), from net-snmp snmpd over SNMPv2c.
func TestSnmpdV2c(t *testing.T) {
	addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, "testdata/rfc1628-ups.snmpwalk"))
	s, err := pollOnce(t, snmpdConfig(t, addr, "2c"), "rfc1628-ups")
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, s.Values, readWant(t, "rfc1628-ups"))

	// The wrong community gets no answer at all: comms-lost.
	cfg := snmpdConfig(t, addr, "2c")
	cfg.Target.Community = "wrong"
	cfg.Timeout, cfg.Retries = 300*time.Millisecond, 0
	s, err = pollOnce(t, cfg, "rfc1628-ups")
	if err == nil || s.Reachable() || s.Values[0].Quality != collectors.CommsLost {
		t.Fatalf("wrong community: err %v, values %+v; want comms-lost", err, s.Values[0])
	}
}

// TestSnmpdV3AuthPriv reads the same values with SNMPv3 authPriv
// (SHA-256 + AES-128) from a user created in the generated config.
func TestSnmpdV3AuthPriv(t *testing.T) {
	conf := "createUser roomwatch SHA-256 authpass123 AES privpass123\nrouser roomwatch priv\n" +
		overrides(t, "testdata/rfc1628-ups.snmpwalk")
	addr := runSnmpd(t, conf)
	cfg := snmpdConfig(t, addr, "3")
	v3("SHA256", "authpass123", "AES", "privpass123")(&cfg)
	s, err := pollOnce(t, cfg, "rfc1628-ups")
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, s.Values, readWant(t, "rfc1628-ups"))

	// A wrong password is a failed poll, and the error shows no secret.
	v3("SHA256", "wrongpass99", "AES", "privpass123")(&cfg)
	cfg.Timeout, cfg.Retries = time.Second, 0
	s, err = pollOnce(t, cfg, "rfc1628-ups")
	if err == nil || s.Reachable() {
		t.Fatal("wrong auth password: poll succeeded")
	}
	if strings.Contains(err.Error(), "wrongpass99") || strings.Contains(err.Error(), "privpass123") {
		t.Fatalf("error leaks a secret: %v", err)
	}
}

// TestSnmpdMissingOID: an object the agent lacks spoils only its own
// value, over v2c (noSuchObject varbind) and v1 (noSuchName error status
// for the whole PDU, answered by dropping the OID and asking again).
func TestSnmpdMissingOID(t *testing.T) {
	const temp = "1.3.6.1.2.1.33.1.2.7.0" // upsBatteryTemperature
	addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, "testdata/rfc1628-ups.snmpwalk", temp))
	for _, tc := range []struct{ version, err string }{
		{"2c", temp + ": noSuchObject (the agent does not implement this object)"},
		{"1", temp + ": agent answered noSuchName (error-index 6)"},
	} {
		t.Run("v"+tc.version, func(t *testing.T) {
			s, err := pollOnce(t, snmpdConfig(t, addr, tc.version), "rfc1628-ups")
			if err != nil {
				t.Fatal(err)
			}
			want := readWant(t, "rfc1628-ups")
			for i := range want {
				if want[i].Name == "battery_temp_c" {
					want[i] = wantValue{Name: "battery_temp_c", Quality: "sensor-fault", Err: tc.err}
				}
			}
			checkValues(t, s.Values, want)
		})
	}
}

// TestHungDeviceDoesNotStallHealthy polls a UDP socket that never answers
// next to snmpd: the healthy poll completes with good values while the hung
// one ends comms-lost at its deadline (ctx's, shorter than the device
// timeout).
func TestHungDeviceDoesNotStallHealthy(t *testing.T) {
	addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, "testdata/rfc1628-ups.snmpwalk"))
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()

	healthyCfg := snmpdConfig(t, addr, "2c")
	hungCfg := snmpdConfig(t, hole.LocalAddr().String(), "2c")
	hungCfg.Device.Name = "hung-ups"
	hungCfg.Timeout, hungCfg.Retries = time.Minute, 2

	type result struct {
		name string
		s    collectors.SampleSet
		err  error
	}
	results := make(chan result, 2)
	hungStarted := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pl, err := New(hungCfg, builtin(t, "rfc1628-ups"), nil)
		if err != nil {
			results <- result{"hung", collectors.SampleSet{}, err}
			return
		}
		defer pl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		close(hungStarted)
		s, err := pl.Poll(ctx)
		results <- result{"hung", s, err}
	}()
	go func() {
		defer wg.Done()
		<-hungStarted
		pl, err := New(healthyCfg, builtin(t, "rfc1628-ups"), nil)
		if err != nil {
			results <- result{"healthy", collectors.SampleSet{}, err}
			return
		}
		defer pl.Close()
		s, err := pl.Poll(context.Background())
		results <- result{"healthy", s, err}
	}()
	first := <-results
	second := <-results
	wg.Wait()
	if first.name != "healthy" {
		t.Fatalf("the hung device's poll ended before the healthy one's")
	}
	if first.err != nil {
		t.Fatalf("healthy poll: %v", first.err)
	}
	checkValues(t, first.s.Values, readWant(t, "rfc1628-ups"))
	if second.err == nil || second.s.Reachable() {
		t.Fatal("hung device: poll succeeded")
	}
	if !errors.Is(second.err, context.DeadlineExceeded) {
		t.Fatalf("hung device error %v, want the poll deadline", second.err)
	}
	for _, v := range second.s.Values {
		if v.Quality != collectors.CommsLost {
			t.Fatalf("hung device %s quality %s, want comms-lost", v.Name, v.Quality)
		}
	}
	// Bounded by ctx's 2 s deadline, not the one-minute device timeout.
	if second.s.Duration >= hungCfg.Timeout {
		t.Fatalf("hung poll took %v: the ctx deadline was not honoured", second.s.Duration)
	}
}
