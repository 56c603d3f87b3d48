package discover

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/sim/modbussim"
	"github.com/roomwatch/roomwatch/collectors/sim/snmpsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingClock is a clock that never waits and counts the waits asked.
type countingClock struct{ waits atomic.Int64 }

func (c *countingClock) Now() time.Time { return time.Unix(0, 0) }
func (c *countingClock) After(d time.Duration) <-chan time.Time {
	c.waits.Add(1)
	ch := make(chan time.Time, 1)
	ch <- time.Unix(0, 0)
	return ch
}

// lab is simulated devices on loopback addresses 127.0.0.2 and up, all on
// one SNMP port and one Modbus port, as a subnet of real devices is.
type lab struct {
	snmpPort, modbusPort int
}

// newLab serves, on 127.0.0.0/29:
//
//	.2 SNMP apc-ups (sysObjectID of a Smart-UPS) and Modbus units 1, 2
//	.3 SNMP rfc1628-ups on a generic agent's sysObjectID
//	.4 SNMP apc-env (an APC sysObjectID, no UPS branch: no profile fits)
//	.5 Modbus unit 3 only
func newLab(t *testing.T) lab {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	store := sim.NewStore()
	for _, d := range []struct{ name, profile string }{
		{"ups-a", "apc-ups"}, {"ups-b", "rfc1628-ups"}, {"env-c", "apc-env"},
		{"ups-m1", "modbus-ups"}, {"th-m2", "modbus-th"}, {"di-m3", "modbus-di"},
	} {
		if err := store.Add(d.name, set[d.profile]); err != nil {
			t.Fatal(err)
		}
	}
	agent := snmpsim.NewAgent(store, nil)
	agent.SetSysObjectID("ups-a", "1.3.6.1.4.1.318.1.3.2.12")
	agent.SetSysObjectID("env-c", "1.3.6.1.4.1.318.1.3.27")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 3)
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
	})
	// One port free on every address: retry the rare clash.
	var conns []net.PacketConn
	port := 0
	for attempt := 0; attempt < 20 && len(conns) < 3; attempt++ {
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
		for i, host := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
			c, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				break
			}
			if i == 0 {
				port = c.LocalAddr().(*net.UDPAddr).Port
			}
			conns = append(conns, c)
		}
		if len(conns) < 3 {
			port = 0
		}
	}
	if len(conns) < 3 {
		t.Fatal("no UDP port free on 127.0.0.2-4")
	}
	for i, dev := range []string{"ups-a", "ups-b", "env-c"} {
		go func() { done <- agent.Serve(ctx, conns[i], dev, "public") }()
	}
	l := lab{snmpPort: port}
	mb := modbussim.NewSimulator(store, nil)
	t.Cleanup(func() { _ = mb.Close() })
	for attempt := 0; attempt < 20; attempt++ {
		addr, err := mb.ListenTCP("127.0.0.2:0", map[uint8]string{1: "ups-m1", 2: "th-m2"})
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		if _, err := mb.ListenTCP("127.0.0.5:"+p, map[uint8]string{3: "di-m3"}); err == nil {
			l.modbusPort, _ = strconv.Atoi(p)
			return l
		}
	}
	t.Fatal("no TCP port free on both 127.0.0.2 and 127.0.0.5")
	return l
}

func TestScanLab(t *testing.T) {
	l := newLab(t)
	set, _ := profiles.Builtin()
	hosts, err := Hosts("127.0.0.0/29", false)
	if err != nil {
		t.Fatal(err)
	}
	clk := &countingClock{}
	sc := &Scanner{
		Profiles: set,
		SNMP: &collectors.Target{Scheme: collectors.SchemeSNMP, Host: ":" + strconv.Itoa(l.snmpPort),
			Version: "2c", Community: "public"},
		ModbusPort:  l.modbusPort,
		Units:       []uint8{1, 2, 3},
		Timeout:     500 * time.Millisecond,
		Concurrency: 3,
		Limiter:     NewLimiter(50, clk),
	}
	found, err := sc.Scan(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		switch {
		case f.Identity != nil:
			got = append(got, fmt.Sprintf("%s snmp %s %s", f.Addr, orNone(f.Identity.ProfileName()), f.Identity.SysName))
		default:
			got = append(got, fmt.Sprintf("%s modbus units %v", f.Addr, f.Units))
		}
	}
	want := []string{
		"127.0.0.2 snmp apc-ups ups-a",
		"127.0.0.2 modbus units [1 2]",
		"127.0.0.3 snmp rfc1628-ups ups-b",
		"127.0.0.4 snmp - env-c",
		"127.0.0.5 modbus units [3]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every request waited for the limiter: 6 SNMP probes (and more
	// GETs for the agents that answered), 6 Modbus connects, 3 unit
	// reads on each of the 2 open ports. The first goes at once.
	if n := clk.waits.Load(); n < 6+6+6-1 {
		t.Errorf("%d limiter waits, want at least 17", n)
	}

	var b bytes.Buffer
	Snippet(&b, found, set)
	snip := b.String()
	for _, w := range []string{
		"  - name: ups-127-0-0-2\n    profile: apc-ups\n    url: \"snmp://127.0.0.2:" + strconv.Itoa(l.snmpPort) + "?version=2c\"\n",
		"    profile: rfc1628-ups\n",
		"  - name: modbus-127-0-0-2-u2\n    profile: \"\"\n    url: \"modbus+tcp://127.0.0.2:" + strconv.Itoa(l.modbusPort) + "?unit=2\"\n",
		"no profile fits sysObjectID 1.3.6.1.4.1.318.1.3.27",
	} {
		if !strings.Contains(snip, w) {
			t.Errorf("snippet lacks %q:\n%s", w, snip)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
