package modbus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
)

// firmware serves one simulated unit whose register map changes: the
// device "ups" answers as whichever of the store's devices is current,
// as a unit does after a firmware change.
type firmware struct {
	store *sim.Store
	mu    sync.Mutex
	cur   string
}

func (f *firmware) use(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = name
}

func (f *firmware) current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *firmware) Devices() []string { return []string{"ups"} }

func (f *firmware) Profile(string) *profiles.Profile { return f.store.Profile(f.current()) }

func (f *firmware) Raw(_, field string) (float64, bool) { return f.store.Raw(f.current(), field) }

// TestFallbackRegister: a value with a fallback register of its own
// table, type and scale is read from it when the unit refuses the first
// (illegal data address), keeps being read from it, goes back to the
// first when that answers again and the fallback stops, and is a sensor
// fault naming both registers when neither answers.
func TestFallbackRegister(t *testing.T) {
	const head = "class: ups\nprotocol: modbus\nvalues:\n  - {name: load_pct, table: input, address: 0, type: uint16, sim: \"40\"}\n"
	newFW := parseProfile(t, "name: new\n"+head+"  - {name: temperature_c, table: input, address: 10, type: int16, scale: 0.1, sim: \"23.5\"}\n")
	oldFW := parseProfile(t, "name: old\n"+head+"  - {name: temperature_c, table: holding, address: 3, type: uint16, sim: \"27\"}\n")
	none := parseProfile(t, "name: none\n"+head)
	read := parseProfile(t, "name: read\n"+head+`  - name: temperature_c
    table: input
    address: 10
    type: int16
    scale: 0.1
    min: -40
    max: 100
    fallback:
      - {table: holding, address: 3, type: uint16}
`)
	fw := &firmware{store: newStore(t, simDevice{name: "new", profile: newFW}, simDevice{name: "old", profile: oldFW}, simDevice{name: "none", profile: none})}
	fw.use("old")
	addr := serveTCP(t, fw, map[uint8]string{1: "ups"})
	pl := newPoller(t, "ups1", tcpTarget(addr, 1), read, 2*time.Second)
	check := func(want float64, errText string) {
		t.Helper()
		s, err := pl.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Get("temperature_c")
		if errText != "" {
			if v.Quality != collectors.SensorFault || v.Err != errText {
				t.Fatalf("temperature_c = %s %q, want sensor-fault %q", v.Quality, v.Err, errText)
			}
			return
		}
		if v.Quality != collectors.Good || v.Num != want {
			t.Fatalf("temperature_c = %v %s (%s), want %v", v.Num, v.Quality, v.Err, want)
		}
		if l, _ := s.Get("load_pct"); l.Quality != collectors.Good || l.Num != 40 {
			t.Fatalf("load_pct = %+v, want 40", l)
		}
	}
	check(27, "")
	check(27, "") // remembered: read from holding register 3 directly
	fw.use("new")
	check(23.5, "")
	fw.use("none")
	check(0, "none of input register 10, holding register 3 answers (no such register on this unit)")
	fw.use("old")
	check(27, "")
}
