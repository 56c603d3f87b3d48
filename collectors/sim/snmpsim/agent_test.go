package snmpsim

import (
	"context"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/snmp"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func builtin(t testing.TB, name string) *profiles.Profile {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatalf("built-in profiles: %v", err)
	}
	p, ok := set[name]
	if !ok {
		t.Fatalf("no built-in profile %q", name)
	}
	return p
}

// testConfig polls the device at addr over SNMP version.
func testConfig(addr, version string) collectors.DeviceConfig {
	return collectors.DeviceConfig{
		Device:  collectors.Device{Site: "h1", Room: "mr1", Name: "ups1"},
		Target:  collectors.Target{Scheme: collectors.SchemeSNMP, Host: addr, Version: version, Community: "public"},
		Timeout: 2 * time.Second,
		Retries: 1,
	}
}

// pollOnce polls the device of cfg once with a built-in profile.
func pollOnce(t *testing.T, cfg collectors.DeviceConfig, profile string) (collectors.SampleSet, error) {
	t.Helper()
	pl, err := snmp.New(cfg, builtin(t, profile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	return pl.Poll(context.Background())
}

var _ Values = (*sim.Store)(nil)

// simAgent serves each device of store on its own loopback UDP socket and
// returns their addresses; everything stops at cleanup.
func simAgent(t testing.TB, store *sim.Store, community string, devices ...string) map[string]string {
	t.Helper()
	a := NewAgent(store, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	addrs := map[string]string{}
	for _, d := range devices {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[d] = conn.LocalAddr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			if err := a.Serve(ctx, conn, d, community); err != nil {
				t.Errorf("serve %s: %v", d, err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return addrs
}

func simStore(t testing.TB, devices map[string]string) *sim.Store {
	t.Helper()
	s := sim.NewStore()
	for d, prof := range devices {
		if err := s.Add(d, builtin(t, prof)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// withExtra returns a copy of the profile asking for one more OID, which
// the simulated device does not serve.
func withExtra(p *profiles.Profile, oid string) *profiles.Profile {
	q := *p
	q.Fields = append(append([]profiles.Field(nil), p.Fields...), profiles.Field{Name: "extra", OID: oid, Type: "integer"})
	return &q
}

// TestAgentServesProfiles polls the simulator with the real poller over
// UDP, v2c and v1: every built-in SNMP profile decodes to its sim
// defaults, a changed value shows on the next poll, and an OID the device
// lacks is reported on its own value.
func TestAgentServesProfiles(t *testing.T) {
	store := simStore(t, map[string]string{"ups1": "rfc1628-ups", "apc1": "apc-ups", "env1": "apc-env"})
	addrs := simAgent(t, store, "public", "ups1", "apc1", "env1")
	const extra = "1.3.6.1.2.1.33.1.9.9.0"
	for _, version := range []string{"2c", "1"} {
		for dev, name := range map[string]string{"ups1": "rfc1628-ups", "apc1": "apc-ups", "env1": "apc-env"} {
			t.Run(version+"/"+name, func(t *testing.T) {
				p := withExtra(builtin(t, name), extra)
				pl, err := snmp.New(testConfig(addrs[dev], version), p, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer pl.Close()
				s, err := pl.Poll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// A table column yields its bare name and one value per
				// row (the simulator serves row 1).
				want := len(p.Specs())
				for _, sp := range p.Specs() {
					if f, _ := p.Field(sp.Name); f.Rows != "" {
						want++
					}
				}
				if len(s.Values) != want {
					t.Fatalf("%d values, want %d", len(s.Values), want)
				}
				for i, f := range p.Fields[:len(p.Fields)-1] {
					want, err := f.Parse(f.Sim)
					if err != nil {
						t.Fatal(err)
					}
					g, _ := s.Get(f.Name)
					if g.Name != f.Name || g.Quality != collectors.Good {
						t.Errorf("value %d: %s %s (%s), want %s good", i, g.Name, g.Quality, g.Err, f.Name)
						continue
					}
					if w, ok := want.(float64); ok {
						if math.Abs(g.Num-w) > 1e-6 {
							t.Errorf("%s = %v, want %v", g.Name, g.Num, w)
						}
					} else if g.Any() != want {
						t.Errorf("%s = %v, want %v", g.Name, g.Any(), want)
					}
				}
				errText := extra + ": noSuchObject (the agent does not implement this object)"
				if version == "1" {
					errText = extra + ": agent answered noSuchName (error-index " + strconv.Itoa(len(p.Fields)-countWalks(p)) + ")"
				}
				if g, _ := s.Get("extra"); g.Name != "extra" || g.Quality != collectors.SensorFault || g.Err != errText {
					t.Errorf("extra = %s %s %q, want a sensor fault %q", g.Name, g.Quality, g.Err, errText)
				}
			})
		}
	}

	// A power cut: the next poll shows it.
	if err := store.Set("ups1", "on_battery", "true"); err != nil {
		t.Fatal(err)
	}
	if err := store.Set("ups1", "runtime_min", "12"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addrs["ups1"], "2c")
	s, err := pollOnce(t, cfg, "rfc1628-ups")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("on_battery"); v.Any() != true {
		t.Errorf("on_battery = %v after the power cut, want true", v.Any())
	}
	if v, _ := s.Get("runtime_min"); v.Num != 12 {
		t.Errorf("runtime_min = %v, want 12", v.Num)
	}

	// Another community gets no answer.
	cfg.Target.Community = "private"
	cfg.Timeout, cfg.Retries = 200*time.Millisecond, 0
	if s, err := pollOnce(t, cfg, "rfc1628-ups"); err == nil || s.Reachable() {
		t.Fatal("the simulator answered a wrong community")
	}
}

func countWalks(p *profiles.Profile) int {
	n := 0
	for _, f := range p.Fields {
		if f.Walk {
			n++
		}
	}
	return n
}

// TestAgentWithNetSnmpTools walks the simulator with net-snmp's own
// snmpwalk (GETBULK, v2c) and snmpget (v1): its BER encoding is what a
// real SNMP manager reads.
func TestAgentWithNetSnmpTools(t *testing.T) {
	walk := testutil.NeedProgram(t, "snmpwalk", "install the Debian package snmp")
	get := testutil.NeedProgram(t, "snmpget", "install the Debian package snmp")
	store := simStore(t, map[string]string{"apc1": "apc-ups"})
	addr := simAgent(t, store, "public", "apc1")["apc1"]
	env := append(os.Environ(), "MIBS=", "MIBDIRS="+t.TempDir())
	cmd := exec.Command(walk, "-v2c", "-c", "public", "-On", "-t", "2", addr, ".1.3.6.1.4.1.318")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("snmpwalk: %v\n%s", err, out)
	}
	for _, line := range []string{
		".1.3.6.1.4.1.318.1.1.1.2.2.3.0 = Timeticks: (2880000) 8:00:00.00",
		".1.3.6.1.4.1.318.1.1.1.2.3.4.0 = INTEGER: 546",
		".1.3.6.1.4.1.318.1.1.1.4.3.3.0 = Gauge32: 350",
		".1.3.6.1.4.1.318.1.1.1.4.1.1.0 = INTEGER: 2",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("snmpwalk output lacks %q:\n%s", line, out)
		}
	}
	cmd = exec.Command(get, "-v1", "-c", "public", "-On", "-t", "2", addr, ".1.3.6.1.4.1.318.1.1.1.2.1.1.0", ".1.3.6.1.4.1.318.9.9.0")
	cmd.Env = env
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), "noSuchName") || !strings.Contains(string(out), ".1.3.6.1.4.1.318.9.9.0") {
		t.Errorf("v1 GET of a missing OID: want noSuchName naming it, got:\n%s", out)
	}
}
