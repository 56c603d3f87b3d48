package modbus_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/sim/modbussim"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChildSim())
	}
	goleak.VerifyTestMain(m)
}

// childEnv makes the test binary a simulator process for benchmarks that
// measure the poller's own CPU time.
const childEnv = "ROOMWATCH_MODBUS_BENCH_SIM"

// runChildSim serves modbus-ups devices as unit 1, one per port (as many
// as childEnv says), prints the addresses on one line and runs until stdin
// closes.
func runChildSim() int {
	n, err := strconv.Atoi(os.Getenv(childEnv))
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a device count\n", childEnv, os.Getenv(childEnv))
		return 1
	}
	set, err := profiles.Builtin()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store := sim.NewStore()
	s := modbussim.NewSimulator(store, nil)
	var addrs []string
	for i := range n {
		name := fmt.Sprint("ups", i)
		if err := store.Add(name, set["modbus-ups"]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		addr, err := s.ListenTCP("127.0.0.1:0", map[uint8]string{1: name})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		addrs = append(addrs, addr)
	}
	fmt.Println(strings.Join(addrs, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close()
	return 0
}

// childSim starts a simulator of n devices in a child process and returns
// their addresses.
func childSim(tb testing.TB, n int) []string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", childEnv, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("simulator process: %v", err)
	}
	addrs := strings.Fields(line)
	if len(addrs) != n {
		tb.Fatalf("simulator process serves %d devices, want %d", len(addrs), n)
	}
	return addrs
}

// builtin returns a built-in profile.
func builtin(t testing.TB, name string) *profiles.Profile {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set[name]
	if !ok {
		t.Fatalf("no built-in profile %q", name)
	}
	return p
}

// parseProfile parses a test profile.
func parseProfile(t testing.TB, yaml string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// simDevice is a simulated device: name, profile and inverted values.
type simDevice struct {
	name    string
	profile *profiles.Profile
	invert  []string
}

func newStore(t testing.TB, devs ...simDevice) *sim.Store {
	t.Helper()
	s := sim.NewStore()
	for _, d := range devs {
		if err := s.Add(d.name, d.profile, d.invert...); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// serveTCP starts a simulator on a random loopback port.
func serveTCP(t testing.TB, src modbussim.Source, units map[uint8]string) string {
	t.Helper()
	s := modbussim.NewSimulator(src, nil)
	addr, err := s.ListenTCP("127.0.0.1:0", units)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return addr
}

func tcpTarget(addr string, unit uint8) collectors.Target {
	return collectors.Target{Scheme: collectors.SchemeModbusTCP, Host: addr, Unit: unit}
}

// newPoller builds a poller that is closed at the end of the test.
func newPoller(t testing.TB, name string, tgt collectors.Target, p *profiles.Profile, timeout time.Duration, invert ...string) *modbus.Poller {
	t.Helper()
	pl, err := modbus.New(collectors.DeviceConfig{
		Device: collectors.Device{Site: "s", Room: "r", Name: name},
		Target: tgt, Timeout: timeout, Invert: invert,
	}, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pl.Close() })
	return pl
}

// ptyPair starts socat joining two pseudo-terminals and returns their
// paths: what one side writes, the other reads, like two ends of a cable.
func ptyPair(t testing.TB) (a, b string) {
	t.Helper()
	socat := testutil.NeedProgram(t, "socat", "install the Debian package socat")
	dir := t.TempDir()
	a, b = filepath.Join(dir, "a"), filepath.Join(dir, "b")
	cmd := exec.Command(socat, "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testutil.Eventually(t, 10*time.Second, "socat's ptys", func() (bool, string) {
		_, errA := os.Stat(a)
		_, errB := os.Stat(b)
		return errA == nil && errB == nil, fmt.Sprint(errA, " ", errB)
	})
	return a, b
}

// proxy sits between pollers and a Modbus TCP server. It counts
// connections and the most requests ever outstanding at once, and can
// hold back chosen answers.
type proxy struct {
	t        testing.TB
	upstream string
	ln       net.Listener
	// delay returns how long to hold answer n (counted from 1).
	delay func(n int) time.Duration

	mu          sync.Mutex
	conns       int
	answers     int
	outstanding int
	maxOut      int
	late        chan int // answer numbers delivered after a delay
	wg          sync.WaitGroup
	closing     chan struct{}
}

func newProxy(t testing.TB, upstream string, delay func(int) time.Duration) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, upstream: upstream, ln: ln, delay: delay, late: make(chan int, 100), closing: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		close(p.closing)
		_ = ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) stats() (conns, maxOut int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, p.maxOut
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		p.wg.Add(3)
		go func() {
			defer p.wg.Done()
			<-p.closing
			_ = c.Close()
			_ = up.Close()
		}()
		go p.requests(c, up)
		go p.answersOf(up, c)
	}
}

// readFrame reads one Modbus TCP frame.
func readFrame(r io.Reader) ([]byte, error) {
	h := make([]byte, 6)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(h[4:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(h, body...), nil
}

func (p *proxy) requests(c, up net.Conn) {
	defer p.wg.Done()
	defer up.Close()
	for {
		f, err := readFrame(c)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.outstanding++
		p.maxOut = max(p.maxOut, p.outstanding)
		p.mu.Unlock()
		if _, err := up.Write(f); err != nil {
			return
		}
	}
}

func (p *proxy) answersOf(up, c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	for {
		f, err := readFrame(up)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.answers++
		n := p.answers
		p.mu.Unlock()
		d := time.Duration(0)
		if p.delay != nil {
			d = p.delay(n)
		}
		if d > 0 {
			select {
			case <-time.After(d):
			case <-p.closing:
				return
			}
		}
		p.mu.Lock()
		p.outstanding--
		p.mu.Unlock()
		_, err = c.Write(f)
		if d > 0 {
			p.late <- n
		}
		if err != nil {
			return
		}
	}
}

// hungServer accepts connections and reads requests but never answers.
// Each request it swallows is signalled on the returned channel.
func hungServer(t testing.TB) (string, <-chan struct{}) {
	t.Helper()
	got := make(chan struct{}, 100)
	addr, _ := serveConns(t, func(c net.Conn) {
		for {
			if _, err := readFrame(c); err != nil {
				return
			}
			got <- struct{}{}
		}
	})
	return addr, got
}

// serveConns accepts connections on a loopback port and runs handle on
// each in a goroutine of its own. When the test ends it closes the
// listener and every connection and waits for the handlers. It returns
// the address and how many connections it has accepted so far.
func serveConns(t testing.TB, handle func(c net.Conn)) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}
