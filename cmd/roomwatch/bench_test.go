package main

// Whole-process benchmarks: the figures asked for by issues 2, 3, 4 and 12
// (BenchmarkBare*: the floor, testdata/bench/bare),
// measured on the real binary and real peers (net-snmp snmpd, influxd
// 1.8, the Modbus simulator of `roomwatch sim` in its own process).
//
// Workload (issue 2): 200 devices x 12 values, each polled every second,
// measured over 45 s after a warm-up. Environment knobs:
//
//	ROOMWATCH_BENCH_SECONDS   measurement window in seconds (default 45)
//	ROOMWATCH_BENCH_WARMUP    seconds between start and the window (default
//	                          the larger of 5 s and three intervals)
//	ROOMWATCH_BENCH_INTERVAL  poll interval of every device (default 1s;
//	                          try 500ms, 250ms, 100ms for the highest rate
//	                          without overruns: see the "skipped" metric)
//	ROOMWATCH_BENCH_DEVICES   devices (default 200)
//	ROOMWATCH_BENCH_FLIPS     mains fail/restore cycles of BenchmarkAlarmLatency (default 25)
//	ROOMWATCH_BENCH_SLOTS     device names chosen so that
//	                          all polls fall in this many bursts per interval
//	                          (default 0: the scheduler's even spread)
//	ROOMWATCH_BENCH_CPUPROFILE file: the monitor's CPU profile over the
//	                          window is saved there (go tool pprof FILE)
//	ROOMWATCH_BENCH_HEAPPROFILE file: the monitor's heap profile at the
//	                          end of the window (go tool pprof FILE; run with
//	                          GODEBUG=memprofilerate=4096 for a fine one)
//	ROOMWATCH_BENCH_TRACE     file: a 10 s execution trace of BenchmarkIdle's
//	                          window (go tool trace FILE)
//	ROOMWATCH_BENCH_STATE_DIR parent folder of the monitor's state (JetStream
//	                          store; default a temporary folder), e.g. /dev/shm
//	                          to tell the disk's fsync time from roomwatch's own
//
// Commands (one run each; -timeout because a run takes about a minute):
//
//	go test -run '^$' -bench 'BenchmarkCollectorsSNMP$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkPollOnlySNMP$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkCollectorsModbus$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkPollOnlyModbus$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkIdle$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkAlarmLatency$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkBareSNMP$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	go test -run '^$' -bench 'BenchmarkBareModbus$' -benchtime 1x -timeout 20m ./cmd/roomwatch
//	ROOMWATCH_BENCH_SECONDS=20 ROOMWATCH_BENCH_INTERVAL=250ms go test -run '^$' -bench 'PollOnly' -benchtime 1x ./cmd/roomwatch
//
// deploy/local/bench.sh (`make bench`) runs the Collectors and Bare
// benchmarks and prints issue 12's table; `deploy/local/bench.sh growth`
// runs them over 50 to 5,000 devices at 1 s and 10 s and prints the growth
// table.
//
// The benchmarks run only with -bench; every peer they need (snmpd,
// influxd) fails the benchmark under CI=true when missing and skips it
// otherwise. Every child process is stopped at cleanup.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// benchValuesPerDevice is the workload's values per device (bench-ups12
// and modbus-ups both declare 12).
const benchValuesPerDevice = 12

// benchSettings is the workload, from the environment.
type benchSettings struct {
	window   time.Duration
	warm     time.Duration // 0: the default warm-up
	interval time.Duration
	devices  int
	flips    int
}

func loadBenchSettings(b *testing.B) benchSettings {
	b.Helper()
	s := benchSettings{window: 45 * time.Second, interval: time.Second, devices: 200, flips: 25}
	if v := os.Getenv("ROOMWATCH_BENCH_SECONDS"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			b.Fatalf("ROOMWATCH_BENCH_SECONDS=%q: want a positive number of seconds", v)
		}
		s.window = time.Duration(n * float64(time.Second))
	}
	if v := os.Getenv("ROOMWATCH_BENCH_WARMUP"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			b.Fatalf("ROOMWATCH_BENCH_WARMUP=%q: want a positive number of seconds", v)
		}
		s.warm = time.Duration(n * float64(time.Second))
	}
	if v := os.Getenv("ROOMWATCH_BENCH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			b.Fatalf("ROOMWATCH_BENCH_INTERVAL=%q: want a duration of at least 100ms (e.g. 250ms)", v)
		}
		s.interval = d
	}
	for _, kv := range []struct {
		name string
		dst  *int
	}{{"ROOMWATCH_BENCH_DEVICES", &s.devices}, {"ROOMWATCH_BENCH_FLIPS", &s.flips}} {
		if v := os.Getenv(kv.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				b.Fatalf("%s=%q: want a positive integer", kv.name, v)
			}
			*kv.dst = n
		}
	}
	return s
}

// warmup is how long a benchmark lets the devices' phases spread and the
// caches fill before its first reading.
func (s benchSettings) warmup() time.Duration {
	if s.warm > 0 {
		return s.warm
	}
	return max(5*time.Second, 3*s.interval)
}

// warmUp sleeps through the warm-up and on to the middle of a
// collectors.PhaseGrain slot. Every device polls at the start of a slot
// (the monitor's scheduler, and the bare floor at the top of each
// interval), so a window that starts mid-slot and lasts whole seconds
// holds whole bursts of polls: one started at a slot's start would count
// a burst more or less than it paid for in CPU.
func (s benchSettings) warmUp() {
	time.Sleep(s.warmup())
	now := time.Now()
	mid := now.Truncate(collectors.PhaseGrain).Add(collectors.PhaseGrain / 2)
	if mid.Before(now) {
		mid = mid.Add(collectors.PhaseGrain)
	}
	time.Sleep(time.Until(mid))
}

// ---------------------------------------------------------------- peers

// benchSnmpd starts one net-snmp snmpd listening on n loopback UDP ports
// (each port one device) serving testdata/bench/snmpd.conf, and returns
// the device URLs. snmpd is killed at cleanup.
func benchSnmpd(b *testing.B, n int) []string {
	b.Helper()
	bin := testutil.NeedProgram(b, "snmpd", "install the Debian package snmpd")
	conf, err := filepath.Abs("testdata/bench/snmpd.conf")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for attempt := 1; attempt <= 3; attempt++ {
		addrs := freeUDPPorts(b, n)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("snmpd-%d.log", attempt)))
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"),
			"udp:"+strings.Join(addrs, ",udp:"))
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir, "SNMPCONFPATH="+dir, "MIBDIRS="+dir, "MIBS=")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			b.Fatalf("start snmpd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if snmpdAnswers(addrs[0], exited) && snmpdAnswers(addrs[n-1], exited) {
			b.Cleanup(stop)
			urls := make([]string, n)
			for i, a := range addrs {
				urls[i] = "snmp://" + a + "?version=2c&community=public"
			}
			return urls
		}
		stop()
		out, _ := os.ReadFile(logf.Name())
		b.Logf("snmpd did not come up (attempt %d): %s", attempt, lastLinesOf(string(out), 5))
	}
	b.Fatal("snmpd did not start")
	return nil
}

func freeUDPPorts(b testing.TB, n int) []string {
	b.Helper()
	held := make([]net.PacketConn, n)
	addrs := make([]string, n)
	for i := range held {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		held[i], addrs[i] = c, c.LocalAddr().String()
	}
	for _, c := range held {
		c.Close()
	}
	return addrs
}

func freeTCPPort(b testing.TB) int {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// snmpdAnswers polls addr until snmpd answers a GET of charge_pct, it
// exits, or 10 s pass.
func snmpdAnswers(addr string, exited <-chan struct{}) bool {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: "public", Version: gosnmp.Version2c, Timeout: 100 * time.Millisecond}
	if err := g.Connect(); err != nil {
		return false
	}
	defer g.Conn.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return false
		default:
		}
		if r, err := g.Get([]string{"1.3.6.1.2.1.33.1.2.4.0"}); err == nil && len(r.Variables) == 1 && r.Variables[0].Type == gosnmp.Integer {
			return true
		}
	}
	return false
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ---------------------------------------------------------------- child processes

// benchBinary builds roomwatch into a temporary folder.
func benchBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "roomwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a process started by a benchmark; its stdout lines arrive on
// lines, its stderr goes to a log file. Stopped (SIGTERM, then SIGKILL
// after 30 s) at cleanup.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	log   string
}

func startChild(b *testing.B, logFile, bin string, args ...string) *child {
	b.Helper()
	logf, err := os.Create(logFile)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		b.Fatalf("start %s: %v", bin, err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{}), log: logFile}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default: // nobody reads any more
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		logf.Close()
		close(c.lines)
		close(c.done)
	}()
	b.Cleanup(c.stop)
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// waitLine returns the first stdout line containing substr.
func (c *child) waitLine(b *testing.B, substr string, timeout time.Duration) string {
	b.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				out, _ := os.ReadFile(c.log)
				b.Fatalf("%s exited before printing %q: %s", c.cmd.Path, substr, lastLinesOf(string(out), 10))
			}
			if strings.Contains(l, substr) {
				return l
			}
		case <-deadline:
			b.Fatalf("%s did not print %q within %v", c.cmd.Path, substr, timeout)
		}
	}
}

// startBenchMonitor runs `roomwatch run` and returns it with its HTTP
// address.
func startBenchMonitor(b *testing.B, bin, config string) (*child, string) {
	b.Helper()
	m := startChild(b, filepath.Join(filepath.Dir(config), "monitor.log"), bin, "run", "--config", config)
	l := m.waitLine(b, "metrics on http://", 60*time.Second)
	addr := strings.TrimSuffix(l[strings.Index(l, "http://")+len("http://"):], "/metrics")
	return m, addr
}

// startModbusSim runs `roomwatch sim --profile modbus-ups --count n` and
// returns the device URLs it prints.
func startModbusSim(b *testing.B, bin string, n int) (*child, []string) {
	b.Helper()
	s := startChild(b, filepath.Join(b.TempDir(), "sim.log"), bin, "sim", "--profile", "modbus-ups",
		"--count", strconv.Itoa(n), "--control", "127.0.0.1:0")
	var urls []string
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				out, _ := os.ReadFile(s.log)
				b.Fatalf("roomwatch sim exited: %s", lastLinesOf(string(out), 10))
			}
			f := strings.Fields(l)
			if len(f) == 3 && strings.HasPrefix(f[2], "modbus+tcp://") {
				urls = append(urls, f[2])
			}
			if strings.HasPrefix(l, "control:") {
				if len(urls) != n {
					b.Fatalf("roomwatch sim printed %d device URLs, want %d", len(urls), n)
				}
				return s, urls
			}
		case <-deadline:
			b.Fatal("roomwatch sim did not print its devices within 60s")
		}
	}
}

// ---------------------------------------------------------------- /proc

// procCPU is utime+stime of pid (0: this process) from /proc/<pid>/stat,
// in clock ticks of 10 ms (CLK_TCK is 100 on Linux).
func procCPU(b testing.TB, pid int) time.Duration {
	b.Helper()
	p := "/proc/self/stat"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatalf("read %s: %v", p, err)
	}
	s := string(data)
	// Fields after "(comm) ": state is field 3, utime 14, stime 15.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("%s: cannot parse utime/stime from %q", p, s)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// procMB is a "kB" line of /proc/<pid>/status (VmHWM, VmRSS) in MiB.
func procMB(b testing.TB, pid int, key string) float64 {
	b.Helper()
	p := "/proc/self/status"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatalf("read %s: %v", p, err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, key+":") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	b.Fatalf("%s: no %s line", p, key)
	return 0
}

// resetPeakRSS makes VmHWM of this process start again from its current
// RSS (writing 5 to clear_refs), so an in-process benchmark's peak is its
// own and not an earlier benchmark's.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ---------------------------------------------------------------- /metrics

// sample is one line of the Prometheus text format.
type sample struct {
	name, labels string
	value        float64
}

type scrapeResult []sample

var benchHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func scrape(b testing.TB, addr string) scrapeResult {
	b.Helper()
	resp, err := benchHTTP.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	var out scrapeResult
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(l, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[sp+1:], 64)
		if err != nil {
			continue
		}
		name, labels := l[:sp], ""
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, labels = name[:i], name[i:]
		}
		out = append(out, sample{name, labels, v})
	}
	return out
}

// sum adds the samples called name whose labels contain every one of
// with (e.g. `quality="good"`).
func (r scrapeResult) sum(name string, with ...string) float64 {
	t := 0.0
next:
	for _, s := range r {
		if s.name != name {
			continue
		}
		for _, w := range with {
			if !strings.Contains(s.labels, w) {
				continue next
			}
		}
		t += s.value
	}
	return t
}

// quantile estimates the q-quantile of histogram name from its buckets
// (linear interpolation inside a bucket, as PromQL's histogram_quantile).
func (r scrapeResult) quantile(name string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, s := range r {
		if s.name != name+"_bucket" {
			continue
		}
		i := strings.Index(s.labels, `le="`)
		if i < 0 {
			continue
		}
		le := s.labels[i+4:]
		le = le[:strings.IndexByte(le, '"')]
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{v, s.value})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return math.NaN()
	}
	rank := q * bs[len(bs)-1].n
	lo, prev := 0.0, 0.0
	for _, bk := range bs {
		if bk.n >= rank {
			if math.IsInf(bk.le, 1) {
				return lo
			}
			if bk.n == prev {
				return bk.le
			}
			return lo + (bk.le-lo)*(rank-prev)/(bk.n-prev)
		}
		lo, prev = bk.le, bk.n
	}
	return lo
}

// ---------------------------------------------------------------- configuration

// writeMonitorConfig writes a monitor configuration for the devices at
// urls (profile for all), 10 devices per room, and returns its path and
// the embedded NATS server's address.
func writeMonitorConfig(b *testing.B, dir, influxURL, profile string, urls []string, st benchSettings, extra string) (path, natsAddr string) {
	b.Helper()
	profDir, err := filepath.Abs("testdata/bench/profiles")
	if err != nil {
		b.Fatal(err)
	}
	var c strings.Builder
	state := filepath.Join(dir, "state")
	if parent := os.Getenv("ROOMWATCH_BENCH_STATE_DIR"); parent != "" {
		d, err := os.MkdirTemp(parent, "roomwatch-bench-")
		if err != nil {
			b.Fatalf("ROOMWATCH_BENCH_STATE_DIR: %v", err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(d) })
		state = d
	}
	fmt.Fprintf(&c, "state_dir: %q\nprofiles_dir: %q\n", state, profDir)
	fmt.Fprintf(&c, "http: {listen: \"127.0.0.1:0\"}\nlog: {level: warn}\n")
	natsAddr = fmt.Sprintf("127.0.0.1:%d", freeTCPPort(b))
	fmt.Fprintf(&c, "nats: {listen: %q}\n", natsAddr)
	// The default spool bound (72 h of this workload, about 80 GiB) is more
	// than this machine's free disk: JetStream refuses to create it.
	fmt.Fprintf(&c, "influx: {url: %q, bucket: %q, spool: {max_bytes: 4GiB}}\n", influxURL, influxtest.Database+"/autogen")
	fmt.Fprintf(&c, "defaults: {interval: %s, timeout: %s, retries: 1}\n", st.interval, st.interval)
	c.WriteString(extra)
	c.WriteString("sites:\n  - name: bench\n    rooms:\n")
	slots := benchSlots(b)
	for i, u := range urls {
		room := fmt.Sprintf("r%02d", i/10)
		if i%10 == 0 {
			fmt.Fprintf(&c, "      - name: %s\n        devices:\n", room)
		}
		name := fmt.Sprintf("d%03d", i)
		if slots > 0 {
			name = slottedName(collectors.Device{Site: "bench", Room: room, Name: name}, i%slots, slots, st.interval)
		}
		fmt.Fprintf(&c, "          - {name: %s, profile: %s, url: %q}\n", name, profile, u)
	}
	path = filepath.Join(dir, "roomwatch.yaml")
	if err := os.WriteFile(path, []byte(c.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path, natsAddr
}

// ---------------------------------------------------------------- whole monitor

// benchMonitor runs the real binary against devices at urls with a real
// influxd and reports the monitor process's cost per value.
func benchMonitor(b *testing.B, bin, profile string, urls []string, st benchSettings) {
	b.Helper()
	srv := influxtest.Start(b)
	dir := b.TempDir()
	cfg, _ := writeMonitorConfig(b, dir, srv.URL(), profile, urls, st, "")
	m, addr := startBenchMonitor(b, bin, cfg)
	st.warmUp()

	s0, c0, i0, t0 := scrape(b, addr), procCPU(b, m.pid()), procCPU(b, srv.Pid()), time.Now()
	if out := os.Getenv("ROOMWATCH_BENCH_CPUPROFILE"); out != "" {
		saveCPUProfile(b, addr, out, st.window)
	}
	time.Sleep(st.window - time.Since(t0))
	s1, c1, i1, el := scrape(b, addr), procCPU(b, m.pid()), procCPU(b, srv.Pid()), time.Since(t0)
	load := loadavg()
	rss := procMB(b, m.pid(), "VmHWM")
	anon, file := procMB(b, m.pid(), "RssAnon"), procMB(b, m.pid(), "RssFile")
	if out := os.Getenv("ROOMWATCH_BENCH_HEAPPROFILE"); out != "" {
		saveProfile(b, addr, "heap", out, time.Minute)
	}

	d := func(name string, with ...string) float64 { return s1.sum(name, with...) - s0.sum(name, with...) }
	polls, errs := d("roomwatch_polls_total"), d("roomwatch_poll_errors_total")
	good := s1.sum("roomwatch_device_values", `quality="good"`)
	all := s1.sum("roomwatch_device_values")
	goodFrac := 0.0
	if all > 0 {
		goodFrac = good / all
	}
	values := (polls - errs) * benchValuesPerDevice * goodFrac
	cpu := c1 - c0
	expected := float64(len(urls)) * el.Seconds() / st.interval.Seconds() * benchValuesPerDevice
	skipped := d("roomwatch_poll_skipped_total")
	written := d("roomwatch_influx_written_samples_total")
	backlog := s1.sum("roomwatch_spool_messages")

	processFigures{el: el, cpu: cpu, influxdCPU: i1 - i0, values: values, expected: expected,
		rss: rss, anon: anon, file: file, skipped: skipped, errs: errs}.report(b)
	b.ReportMetric(written/el.Seconds(), "influx-samples/s")
	b.Logf("monitor %s: %d devices every %v for %v: %.0f good values/s (scheduled %.0f), CPU %.2fs = %.2f µs/value (%.0f%% of one core), peak RSS %.1f MB (now %.1f anonymous + %.1f the binary's file pages), skipped %.0f (whole run %.0f), poll errors %.0f, InfluxDB wrote %.0f samples/s (influxd %.2f µs/value), spool backlog %.0f msgs; loadavg %s",
		profile, len(urls), st.interval, el.Round(time.Millisecond), values/el.Seconds(), expected/el.Seconds(),
		cpu.Seconds(), float64(cpu.Microseconds())/math.Max(values, 1), 100*cpu.Seconds()/el.Seconds(), rss, anon, file,
		skipped, s1.sum("roomwatch_poll_skipped_total"), errs, written/el.Seconds(),
		float64((i1-i0).Microseconds())/math.Max(values, 1), backlog, load)
	if polls == 0 {
		b.Fatalf("no poll finished in %v: see %s", el, m.log)
	}
}

// processFigures are a child process's costs over a benchmark's window,
// reported under the same metric names by the monitor's and the bare
// floor's benchmarks, so that `make bench` can set the two side by side.
type processFigures struct {
	el, cpu, influxdCPU                              time.Duration
	values, expected, rss, anon, file, skipped, errs float64
}

func (f processFigures) report(b *testing.B) {
	perValue := func(d time.Duration) float64 { return float64(d.Microseconds()) / math.Max(f.values, 1) }
	b.ReportMetric(perValue(f.cpu), "cpu-µs/value")
	b.ReportMetric(1000*f.cpu.Seconds()/f.el.Seconds(), "cpu-ms/s")
	b.ReportMetric(f.values/f.el.Seconds(), "values/s")
	b.ReportMetric(f.expected/f.el.Seconds(), "scheduled-values/s")
	b.ReportMetric(f.rss, "rss-MB")
	b.ReportMetric(f.anon, "rss-anon-MB")
	b.ReportMetric(f.file, "rss-file-MB")
	b.ReportMetric(f.skipped, "skipped")
	b.ReportMetric(f.errs, "poll-errors")
	b.ReportMetric(perValue(f.influxdCPU), "influxd-cpu-µs/value")
}

// saveCPUProfile writes the monitor's CPU profile (from /debug/pprof)
// over most of the measurement window to file, for `go tool pprof`.
func saveCPUProfile(b *testing.B, addr, file string, window time.Duration) {
	b.Helper()
	secs := max(1, int(window.Seconds())-2)
	saveProfile(b, addr, fmt.Sprintf("profile?seconds=%d", secs), file, window+30*time.Second)
}

// saveProfile writes the monitor's /debug/pprof/<name> to file.
func saveProfile(b *testing.B, addr, name, file string, timeout time.Duration) {
	b.Helper()
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/%s", addr, name))
	if err != nil {
		b.Fatalf("profile %s: %v", name, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		b.Fatalf("profile %s: %v", name, err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatalf("profile %s: %v", name, err)
	}
}

// BenchmarkCollectorsSNMP is issue 2's workload end to end (issue 3): the
// roomwatch process (collectors, spool, InfluxDB writer, rules) polling
// 200 SNMP devices (one snmpd on 200 UDP ports) x 12 values every second
// and writing them to a real influxd.
func BenchmarkCollectorsSNMP(b *testing.B) {
	st := loadBenchSettings(b)
	urls := benchSnmpd(b, st.devices)
	bin := benchBinary(b)
	benchMonitor(b, bin, "bench-ups12", urls, st)
}

// BenchmarkCollectorsModbus is the same workload over Modbus TCP against
// `roomwatch sim --profile modbus-ups --count 200` (its own process).
func BenchmarkCollectorsModbus(b *testing.B) {
	st := loadBenchSettings(b)
	bin := benchBinary(b)
	_, urls := startModbusSim(b, bin, st.devices)
	benchMonitor(b, bin, "modbus-ups", urls, st)
}

// BenchmarkIdle is issue 12's idle monitor: the whole monitor (embedded
// NATS, spool, InfluxDB writer, rules) with one Modbus device
// (`roomwatch sim --profile modbus-ups --count 1`) polled every
// ROOMWATCH_BENCH_INTERVAL (default 1s), measured over the window: CPU per
// second of wall time (utime+stime), RSS, goroutines and GC cycles. Set
// ROOMWATCH_BENCH_TRACE to a file to save a 10 s execution trace of the
// window (go tool trace FILE) and see every wake-up.
func BenchmarkIdle(b *testing.B) {
	st := loadBenchSettings(b)
	benchIdle(b, st)
}

// BenchmarkIdleDefault is BenchmarkIdle with the device polled at the
// monitor's default interval (defaults.interval, 10 s), as a machine room
// with one UPS configured and nothing else runs.
func BenchmarkIdleDefault(b *testing.B) {
	st := loadBenchSettings(b)
	st.interval = defaultConfig().Defaults.Interval
	benchIdle(b, st)
}

func benchIdle(b *testing.B, st benchSettings) {
	b.Helper()
	bin := benchBinary(b)
	_, urls := startModbusSim(b, bin, 1)
	srv := influxtest.Start(b)
	cfg, _ := writeMonitorConfig(b, b.TempDir(), srv.URL(), "modbus-ups", urls, st, "")
	m, addr := startBenchMonitor(b, bin, cfg)
	time.Sleep(st.warmup())

	s0, c0, t0 := scrape(b, addr), procCPU(b, m.pid()), time.Now()
	if out := os.Getenv("ROOMWATCH_BENCH_CPUPROFILE"); out != "" {
		saveCPUProfile(b, addr, out, st.window)
	}
	if out := os.Getenv("ROOMWATCH_BENCH_TRACE"); out != "" {
		saveProfile(b, addr, "trace?seconds=10", out, time.Minute)
	}
	time.Sleep(st.window - time.Since(t0))
	s1, c1, el := scrape(b, addr), procCPU(b, m.pid()), time.Since(t0)
	cpuPerSec, rss, anon, file := reportIdle(b, m.pid(), c1-c0, el)
	if out := os.Getenv("ROOMWATCH_BENCH_HEAPPROFILE"); out != "" {
		saveProfile(b, addr, "heap", out, time.Minute)
	}

	d := func(name string) float64 { return s1.sum(name) - s0.sum(name) }
	gcs := d("go_gc_duration_seconds_count")
	b.ReportMetric(s1.sum("go_goroutines"), "goroutines")
	b.ReportMetric(gcs/el.Seconds()*60, "gc/min")
	b.Logf("idle monitor, 1 device every %v for %v: CPU %.2f ms/s (%d polls), peak RSS %.1f MB (now %.1f anonymous + %.1f file pages), %.0f goroutines, %.0f GC cycles; loadavg %s",
		st.interval, el.Round(time.Millisecond), cpuPerSec, int(d("roomwatch_polls_total")), rss, anon, file,
		s1.sum("go_goroutines"), gcs, loadavg())
	if d("roomwatch_polls_total") == 0 {
		b.Fatalf("no poll finished in %v: see %s", el, m.log)
	}
}

// reportIdle reports an idle process's CPU a second of wall time (cpu
// over el), its peak RSS and its RSS now split into anonymous and file
// pages, and returns them.
func reportIdle(b *testing.B, pid int, cpu, el time.Duration) (cpuPerSec, rss, anon, file float64) {
	b.Helper()
	cpuPerSec = float64(cpu.Microseconds()) / 1000 / el.Seconds()
	rss = procMB(b, pid, "VmHWM")
	anon, file = procMB(b, pid, "RssAnon"), procMB(b, pid, "RssFile")
	b.ReportMetric(cpuPerSec, "cpu-ms/s")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(anon, "rss-anon-MB")
	b.ReportMetric(file, "rss-file-MB")
	return cpuPerSec, rss, anon, file
}

// BenchmarkNATSFloor is what holds the idle monitor's CPU and part of
// its memory (issue 12): testdata/bench/natsfloor, the embedded NATS
// server as the monitor starts it with the streams, buckets and consumer
// it creates for one site, in its own process, idle (no device, nothing
// published), measured as BenchmarkIdle measures the monitor.
func BenchmarkNATSFloor(b *testing.B) {
	st := loadBenchSettings(b)
	bin := filepath.Join(b.TempDir(), "natsfloor")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/bench/natsfloor").CombinedOutput(); err != nil {
		b.Fatalf("go build ./testdata/bench/natsfloor: %v\n%s", err, out)
	}
	c := startChild(b, filepath.Join(b.TempDir(), "natsfloor.log"), bin, "-store", b.TempDir())
	c.waitLine(b, "ready", time.Minute)
	time.Sleep(st.warmup())

	c0, t0 := procCPU(b, c.pid()), time.Now()
	time.Sleep(st.window)
	c1, el := procCPU(b, c.pid()), time.Since(t0)
	cpuPerSec, rss, anon, file := reportIdle(b, c.pid(), c1-c0, el)
	b.Logf("NATS floor (embedded server, JetStream, the monitor's streams for one site, idle) for %v: CPU %.2f ms/s, peak RSS %.1f MB (now %.1f anonymous + %.1f file pages); loadavg %s",
		el.Round(time.Millisecond), cpuPerSec, rss, anon, file, loadavg())
}

// ---------------------------------------------------------------- collectors only

// countingObserver counts polls, failed polls and skipped ticks.
type countingObserver struct{ polls, errs, skipped atomic.Int64 }

func (o *countingObserver) Polled(s *collectors.SampleSet, err error) {
	o.polls.Add(1)
	if err != nil {
		o.errs.Add(1)
	}
}

func (o *countingObserver) Skipped(_ collectors.Device, ticks int) { o.skipped.Add(int64(ticks)) }

// benchPollOnly runs collectors.Scheduler in this process with the
// monitor's pollers (newPoller) and a sink that counts good values, and
// reports this process's CPU per value.
func benchPollOnly(b *testing.B, profile string, urls []string, st benchSettings) {
	b.Helper()
	set, err := profiles.Load("testdata/bench/profiles")
	if err != nil {
		b.Fatal(err)
	}
	p, ok := set[profile]
	if !ok {
		b.Fatalf("no profile %q", profile)
	}
	log := slog.New(slog.DiscardHandler)
	slots := benchSlots(b)
	jobs := make([]collectors.Job, 0, len(urls))
	for i, u := range urls {
		t, err := collectors.ParseTarget(u)
		if err != nil {
			b.Fatal(err)
		}
		dev := collectors.Device{Site: "bench", Room: fmt.Sprintf("r%02d", i/10), Name: fmt.Sprintf("d%03d", i), Profile: p.Name, Class: p.Class}
		if slots > 0 {
			dev.Name = slottedName(dev, i%slots, slots, st.interval)
		}
		dc := collectors.DeviceConfig{
			Device:   dev,
			Target:   t,
			Interval: st.interval, Timeout: st.interval, Retries: 1,
		}
		pl, err := newPoller(dc, p, log)
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, collectors.Job{Config: dc, Poller: pl, Specs: p.Specs()})
	}
	var good atomic.Int64
	obs := &countingObserver{}
	sink := func(s collectors.SampleSet) {
		n := 0
		for i := range s.Values {
			if s.Values[i].Quality == collectors.Good {
				n++
			}
		}
		good.Add(int64(n))
	}
	debug.FreeOSMemory() // the previous benchmark's heap does not count
	resetPeakRSS()
	sched := collectors.NewScheduler(sink, 0, obs, log)
	sched.Set(jobs)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			sched.Stop()
		}
	}
	b.Cleanup(stop)
	st.warmUp()

	g0, p0, e0, k0 := good.Load(), obs.polls.Load(), obs.errs.Load(), obs.skipped.Load()
	c0, t0 := procCPU(b, 0), time.Now()
	time.Sleep(st.window)
	g1, p1, e1, k1 := good.Load(), obs.polls.Load(), obs.errs.Load(), obs.skipped.Load()
	c1, el := procCPU(b, 0), time.Since(t0)
	load := loadavg()
	rss, cur := procMB(b, 0, "VmHWM"), procMB(b, 0, "VmRSS")
	stop()

	values := float64(g1 - g0)
	cpu := c1 - c0
	expected := float64(len(urls)) * el.Seconds() / st.interval.Seconds() * float64(len(p.Specs()))
	b.ReportMetric(float64(cpu.Microseconds())/math.Max(values, 1), "cpu-µs/value")
	b.ReportMetric(values/el.Seconds(), "values/s")
	b.ReportMetric(expected/el.Seconds(), "scheduled-values/s")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(float64(k1-k0), "skipped")
	b.ReportMetric(float64(e1-e0), "poll-errors")
	b.Logf("poll-only %s: %d devices every %v for %v: %.0f good values/s (scheduled %.0f), CPU %.2fs = %.2f µs/value (%.0f%% of one core), peak RSS %.1f MB (now %.1f; the test binary's), skipped %d (whole run %d), poll errors %d, polls %d; loadavg %s",
		profile, len(urls), st.interval, el.Round(time.Millisecond), values/el.Seconds(), expected/el.Seconds(),
		cpu.Seconds(), float64(cpu.Microseconds())/math.Max(values, 1), 100*cpu.Seconds()/el.Seconds(), rss, cur,
		k1-k0, k1, e1-e0, p1-p0, load)
	if p1 == p0 {
		b.Fatal("no poll finished")
	}
}

// benchSlots is ROOMWATCH_BENCH_SLOTS (0: the scheduler's own phases).
func benchSlots(b *testing.B) int {
	b.Helper()
	v := os.Getenv("ROOMWATCH_BENCH_SLOTS")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("ROOMWATCH_BENCH_SLOTS=%q: want a number of phase slots (0: natural phases)", v)
	}
	return n
}

// slottedName picks a device name whose scheduler phase
// (collectors.Offset) falls in the first millisecond of slot k of n equal
// slots of the interval: ROOMWATCH_BENCH_SLOTS=n makes the polls of all
// devices come in n bursts per interval instead of spread evenly, to show
// what batching the pollers' wake-ups would save.
func slottedName(dev collectors.Device, k, n int, interval time.Duration) string {
	lo := time.Duration(k) * (interval / time.Duration(n))
	base := dev.Name
	for j := 0; ; j++ {
		dev.Name = fmt.Sprintf("%s-%d", base, j)
		if off := collectors.Offset(dev.ID(), interval); off >= lo && off < lo+time.Millisecond {
			return dev.Name
		}
	}
}

// BenchmarkPollOnlySNMP is issue 2's collectors-only figure: 200 SNMP
// pollers on the scheduler in this process against one snmpd.
func BenchmarkPollOnlySNMP(b *testing.B) {
	st := loadBenchSettings(b)
	urls := benchSnmpd(b, st.devices)
	benchPollOnly(b, "bench-ups12", urls, st)
}

// BenchmarkPollOnlyModbus is the collectors-only figure over Modbus TCP;
// the simulator runs in its own process.
func BenchmarkPollOnlyModbus(b *testing.B) {
	st := loadBenchSettings(b)
	bin := benchBinary(b)
	_, urls := startModbusSim(b, bin, st.devices)
	benchPollOnly(b, "modbus-ups", urls, st)
}

// ---------------------------------------------------------------- bare floor

// benchBareBinary builds testdata/bench/bare, the floor of issue 12: the
// same polling libraries plus the InfluxDB client, no logic.
func benchBareBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "bare")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/bench/bare").CombinedOutput(); err != nil {
		b.Fatalf("go build ./testdata/bench/bare: %v\n%s", err, out)
	}
	return bin
}

// bareCounters are the bare floor's counters since it started.
type bareCounters struct{ values, polls, errs, skipped, writeErrs float64 }

// bareStats asks the bare floor for its counters (SIGUSR1).
func bareStats(b *testing.B, c *child) bareCounters {
	b.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		b.Fatalf("signal bare: %v", err)
	}
	l := c.waitLine(b, "stats ", 10*time.Second)
	var n bareCounters
	if _, err := fmt.Sscanf(l, "stats values=%g polls=%g errors=%g skipped=%g write-errors=%g",
		&n.values, &n.polls, &n.errs, &n.skipped, &n.writeErrs); err != nil {
		b.Fatalf("bare: %q: %v", l, err)
	}
	return n
}

// benchBare runs the bare floor as a child process against the devices
// at urls and a real influxd, and reports its cost per value as
// benchMonitor reports the monitor's (same window, same /proc readings,
// same metric names), so that `make bench` can set the two side by side.
func benchBare(b *testing.B, bare, proto string, urls []string, st benchSettings) {
	b.Helper()
	srv := influxtest.Start(b)
	args := append([]string{"-proto", proto, "-interval", st.interval.String(),
		"-influx", srv.URL(), "-bucket", influxtest.Database + "/autogen"}, urls...)
	c := startChild(b, filepath.Join(b.TempDir(), "bare.log"), bare, args...)
	c.waitLine(b, "polling ", 60*time.Second)
	st.warmUp()

	n0 := bareStats(b, c)
	c0, i0, t0 := procCPU(b, c.pid()), procCPU(b, srv.Pid()), time.Now()
	time.Sleep(st.window)
	n1 := bareStats(b, c)
	c1, i1, el := procCPU(b, c.pid()), procCPU(b, srv.Pid()), time.Since(t0)
	load := loadavg()
	rss := procMB(b, c.pid(), "VmHWM")
	anon, file := procMB(b, c.pid(), "RssAnon"), procMB(b, c.pid(), "RssFile")

	values, cpu := n1.values-n0.values, c1-c0
	polls, errs, skipped := n1.polls-n0.polls, n1.errs-n0.errs, n1.skipped-n0.skipped
	expected := float64(len(urls)) * el.Seconds() / st.interval.Seconds() * benchValuesPerDevice
	processFigures{el: el, cpu: cpu, influxdCPU: i1 - i0, values: values, expected: expected,
		rss: rss, anon: anon, file: file, skipped: skipped, errs: errs}.report(b)
	b.Logf("bare floor %s: %d devices every %v for %v: %.0f good values/s (scheduled %.0f), CPU %.2fs = %.2f µs/value (%.0f%% of one core), peak RSS %.1f MB (now %.1f anonymous + %.1f the binary's file pages), skipped %.0f, poll errors %.0f, polls %.0f, InfluxDB write errors %.0f (whole run), influxd %.2f µs/value; loadavg %s",
		proto, len(urls), st.interval, el.Round(time.Millisecond), values/el.Seconds(), expected/el.Seconds(),
		cpu.Seconds(), float64(cpu.Microseconds())/math.Max(values, 1), 100*cpu.Seconds()/el.Seconds(), rss, anon, file,
		skipped, errs, polls, n1.writeErrs, float64((i1-i0).Microseconds())/math.Max(values, 1), load)
	if polls == 0 {
		b.Fatalf("no poll finished in %v: see %s", el, c.log)
	}
	if n1.writeErrs > 0 {
		b.Fatalf("%.0f InfluxDB writes failed: see %s", n1.writeErrs, c.log)
	}
}

// BenchmarkBareSNMP is the floor of BenchmarkCollectorsSNMP (issue 12):
// testdata/bench/bare in its own process, one gosnmp GET of the twelve
// OIDs per device at the top of every interval (all devices together), written with influxdb-client-go's
// batching WriteAPI to a real influxd; same snmpd, same devices.
func BenchmarkBareSNMP(b *testing.B) {
	st := loadBenchSettings(b)
	urls := benchSnmpd(b, st.devices)
	benchBare(b, benchBareBinary(b), "snmp", urls, st)
}

// BenchmarkBareModbus is the floor of BenchmarkCollectorsModbus: one
// goburrow/modbus read of the twenty holding registers of modbus-ups per
// device every interval against `roomwatch sim` in its own process.
func BenchmarkBareModbus(b *testing.B) {
	st := loadBenchSettings(b)
	bin := benchBinary(b)
	_, urls := startModbusSim(b, bin, st.devices)
	benchBare(b, benchBareBinary(b), "modbus", urls, st)
}

// ---------------------------------------------------------------- alarm latency

// BenchmarkAlarmLatency is issue 4's figure: the monitor polls
// ROOMWATCH_BENCH_DEVICES (default here 20) simulated RFC 1628 UPSes
// (url: sim) every second; the benchmark cuts and restores the mains
// through /sim/scenario ROOMWATCH_BENCH_FLIPS times and reads every
// ups-on-battery alarm from the JetStream alarm stream.
//
// poll→stored-ms is the JetStream stored timestamp minus the alarm's
// started_at (firing) or ended_at (resolved), which the engine takes from
// the poll's start time: an upper bound of "end of poll to acknowledged"
// that includes the poll itself (poll-ms). handover→ack-ms is the
// monitor's roomwatch_alarm_publish_latency_seconds (publisher queue to
// PubAck, from its histogram buckets).
func BenchmarkAlarmLatency(b *testing.B) {
	st := loadBenchSettings(b)
	if os.Getenv("ROOMWATCH_BENCH_DEVICES") == "" {
		st.devices = 20
	}
	bin := benchBinary(b)
	srv := influxtest.Start(b)
	dir := b.TempDir()
	rulesFile, err := filepath.Abs("testdata/bench/rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	urls := make([]string, st.devices)
	for i := range urls {
		urls[i] = SimURL
	}
	cfg, _ := writeMonitorConfig(b, dir, srv.URL(), "rfc1628-ups", urls, st, fmt.Sprintf("rule_files: [%q]\n", rulesFile))
	_, addr := startBenchMonitor(b, bin, cfg)

	mc, err := loadConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := dialNATS(mc.NATS, slog.New(slog.DiscardHandler)) // the screen's key, at natsAddr
	if err != nil {
		b.Fatalf("connect to the monitor's NATS: %v", err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := alerts.AlarmStreamName(alerts.DefaultConfig().StreamPrefix, "bench")
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		b.Fatalf("alarm stream %s: %v", stream, err)
	}
	type event struct {
		state alerts.State
		lat   time.Duration
	}
	events := make(chan event, 4*st.devices*st.flips+64)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var a alerts.Alarm
		if err := json.Unmarshal(msg.Data(), &a); err != nil || a.Rule != "ups-on-battery" {
			return
		}
		md, err := msg.Metadata()
		if err != nil {
			return
		}
		at := a.StartedAt
		if a.State == alerts.Resolved && a.EndedAt != nil {
			at = *a.EndedAt
		}
		select {
		case events <- event{a.State, md.Timestamp.Sub(at)}:
		default:
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)

	time.Sleep(st.warmup())
	scenario := func(name string) {
		resp, err := benchHTTP.Post("http://"+addr+"/sim/scenario/"+name, "text/plain", nil)
		if err != nil {
			b.Fatalf("scenario %s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("scenario %s: HTTP %d", name, resp.StatusCode)
		}
	}
	var lats []time.Duration
	wait := func(want alerts.State) {
		got := 0
		timeout := time.After(5*st.interval + 10*time.Second)
		for got < st.devices {
			select {
			case e := <-events:
				if e.state == want {
					got++
					lats = append(lats, e.lat)
				}
			case <-timeout:
				b.Fatalf("got %d of %d %s alarms", got, st.devices, want)
			}
		}
	}
	s0 := scrape(b, addr)
	for range st.flips {
		scenario("mains-fail")
		wait(alerts.Firing)
		scenario("mains-restore")
		wait(alerts.Resolved)
	}
	s1 := scrape(b, addr)
	load := loadavg()

	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(q float64) float64 {
		return float64(lats[min(len(lats)-1, int(q*float64(len(lats))))].Microseconds()) / 1000
	}
	var hist scrapeResult // the histogram's buckets over the measurement
	for _, s := range s1 {
		if s.name == "roomwatch_alarm_publish_latency_seconds_bucket" {
			hist = append(hist, sample{s.name, s.labels, s.value - s0.sum(s.name, s.labels)})
		}
	}
	pollMs := 1000 * (s1.sum("roomwatch_poll_duration_seconds_sum") - s0.sum("roomwatch_poll_duration_seconds_sum")) /
		math.Max(1, s1.sum("roomwatch_poll_duration_seconds_count")-s0.sum("roomwatch_poll_duration_seconds_count"))
	h50 := 1000 * hist.quantile("roomwatch_alarm_publish_latency_seconds", .5)
	h99 := 1000 * hist.quantile("roomwatch_alarm_publish_latency_seconds", .99)
	b.ReportMetric(pct(.5), "poll→stored-p50-ms")
	b.ReportMetric(pct(.99), "poll→stored-p99-ms")
	b.ReportMetric(float64(lats[len(lats)-1].Microseconds())/1000, "poll→stored-max-ms")
	b.ReportMetric(h50, "handover→ack-p50-ms")
	b.ReportMetric(h99, "handover→ack-p99-ms")
	b.ReportMetric(pollMs, "poll-ms")
	b.ReportMetric(float64(len(lats)), "alarms")
	b.Logf("alarm latency: %d alarms (%d devices x %d mains flips, firing+resolved): poll start→JetStream stored p50 %.2f ms, p99 %.2f ms, max %.2f ms (mean poll %.2f ms); publisher handover→ack p50 %.2f ms, p99 %.2f ms (histogram buckets); loadavg %s",
		len(lats), st.devices, st.flips, pct(.5), pct(.99), float64(lats[len(lats)-1].Microseconds())/1000, pollMs, h50, h99, load)
}
