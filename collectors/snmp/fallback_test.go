package snmp

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// apcGenerations are recorded responses of the two APC card generations
// (and of the one answering both), each with the values apc-ups must
// decode to: apc-ups.snmpwalk answers only upsHighPrec* (and has no
// battery temperature object at all).
var apcGenerations = []string{"apc-ups", "apc-ups-adv", "apc-ups-both"}

// TestAPCGenerationsDecode decodes each recording as a walk and through a
// poll (fallbacks tried over GET), with the same result.
func TestAPCGenerationsDecode(t *testing.T) {
	p := builtin(t, "apc-ups")
	for _, name := range apcGenerations {
		t.Run(name, func(t *testing.T) {
			walk := filepath.Join("testdata", name+".snmpwalk")
			r := ResponseFromWalk(p, readWalk(t, walk))
			want := readWant(t, name)
			if name == "apc-ups" {
				// Through a poll, the missing temperature names both OIDs tried.
				want[5].Err = ""
			}
			checkValues(t, Decode(p, &r, nil), readWant(t, name))

			pl, err := NewWithTransport(testConfig("2c"), p, newFakeAgent(t, walk), nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := pl.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, s.Values, want)
		})
	}
}

// TestSnmpdAPCGenerations polls each recording served by net-snmp snmpd.
func TestSnmpdAPCGenerations(t *testing.T) {
	for _, name := range apcGenerations[1:] {
		t.Run(name, func(t *testing.T) {
			addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, filepath.Join("testdata", name+".snmpwalk")))
			s, err := pollOnce(t, snmpdConfig(t, addr, "2c"), "apc-ups")
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, s.Values, readWant(t, name))
		})
	}
}

const (
	highPrecCharge = "1.3.6.1.4.1.318.1.1.1.2.3.1.0"
	advCharge      = "1.3.6.1.4.1.318.1.1.1.2.2.1.0"
)

// TestFallbackSwitchesAndRemembers: the high-precision charge disappears
// (a card downgraded or replaced), the poll reads the Adv object in the
// same poll and asks for it first from then on; when the Adv object
// disappears in turn, the high-precision one is found again.
func TestFallbackSwitchesAndRemembers(t *testing.T) {
	p := builtin(t, "apc-ups")
	a := newFakeAgent(t, "testdata/apc-ups-both.snmpwalk")
	pl, err := NewWithTransport(testConfig("2c"), p, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	charge := func() (any, string) {
		t.Helper()
		s, err := pl.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Get("charge_pct")
		return v.Any(), v.Quality.String()
	}
	asked := func() [][]string {
		var gets [][]string
		for _, c := range a.takeCalls() {
			if c.op == "get" {
				gets = append(gets, c.oids)
			}
		}
		return gets
	}

	if v, q := charge(); v != 99.5 || q != "good" {
		t.Fatalf("both served: charge %v %s, want 99.5 from upsHighPrecBatteryCapacity", v, q)
	}
	if g := asked(); len(g) != 1 || !slices.Contains(g[0], highPrecCharge) || slices.Contains(g[0], advCharge) {
		t.Fatalf("both served: GETs %v, want one asking the high-precision objects only", g)
	}

	saved := a.objs[highPrecCharge]
	a.remove(highPrecCharge)
	if v, q := charge(); v != 99.0 || q != "good" {
		t.Fatalf("high precision gone: charge %v %s, want 99 from upsAdvBatteryCapacity", v, q)
	}
	if g := asked(); len(g) != 2 || !slices.Equal(g[1], []string{advCharge}) {
		t.Fatalf("high precision gone: GETs %v, want a second GET of the Adv object alone", g)
	}
	if v, _ := charge(); v != 99.0 {
		t.Fatalf("next poll: charge %v", v)
	}
	if g := asked(); len(g) != 1 || !slices.Contains(g[0], advCharge) || slices.Contains(g[0], highPrecCharge) {
		t.Fatalf("next poll: GETs %v, want one GET asking the remembered Adv object", g)
	}

	a.objs[highPrecCharge] = saved
	a.remove(advCharge)
	if v, q := charge(); v != 99.5 || q != "good" {
		t.Fatalf("Adv gone, high precision back: charge %v %s, want 99.5", v, q)
	}

	a.remove(highPrecCharge)
	s, err := pl.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.Get("charge_pct")
	if v.Quality.String() != "sensor-fault" || !strings.Contains(v.Err, highPrecCharge) || !strings.Contains(v.Err, advCharge) {
		t.Fatalf("neither served: %+v, want a sensor fault naming both OIDs", v)
	}
}
