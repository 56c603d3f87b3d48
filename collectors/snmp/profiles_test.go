package snmp

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// wantValue is one expected decoded value of a recorded response.
type wantValue struct {
	Name    string `json:"name"`
	Value   any    `json:"value"`
	Quality string `json:"quality"`
	Err     string `json:"err"`
}

func builtin(t testing.TB, name string) *profiles.Profile {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatalf("built-in profiles: %v", err)
	}
	p, ok := set[name]
	if !ok {
		t.Fatalf("no built-in profile %q (have %v)", name, set.Names())
	}
	return p
}

// TestRecordedResponses decodes each SNMP built-in profile's recorded
// response (testdata/<profile>.snmpwalk, recorded from net-snmp snmpd)
// and checks every value against testdata/<profile>.want.json.
func TestRecordedResponses(t *testing.T) {
	for _, name := range []string{"rfc1628-ups", "apc-ups", "apc-env", "eaton-xups", "huawei-ups", "liebert-gp"} {
		t.Run(name, func(t *testing.T) {
			p := builtin(t, name)
			pdus := readWalk(t, filepath.Join("testdata", name+".snmpwalk"))
			r := ResponseFromWalk(p, pdus)
			got := Decode(p, &r, nil)
			checkValues(t, got, readWant(t, name))
		})
	}
}

func checkValues(t *testing.T, got []collectors.Value, want []wantValue) {
	t.Helper()
	if len(got) != len(want) {
		for _, v := range got {
			t.Logf("got %s = %v (%s) %s", v.Name, v.Any(), v.Quality, v.Err)
		}
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name || g.Quality.String() != w.Quality {
			t.Errorf("value %d: got %s %s (%s), want %s %s", i, g.Name, g.Quality, g.Err, w.Name, w.Quality)
			continue
		}
		if w.Err != "" && g.Err != w.Err {
			t.Errorf("%s: err %q, want %q", g.Name, g.Err, w.Err)
		}
		if g.Quality != collectors.Good {
			continue
		}
		switch wv := w.Value.(type) {
		case float64:
			if math.Abs(g.Num-wv) > 1e-6 || g.Kind != collectors.Number {
				t.Errorf("%s = %v (%s), want %v", g.Name, g.Num, g.Kind, wv)
			}
		default:
			if g.Any() != w.Value {
				t.Errorf("%s = %v, want %v", g.Name, g.Any(), w.Value)
			}
		}
	}
}
