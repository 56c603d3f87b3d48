package snmp

import (
	"context"
	"testing"
)

// TestAutoPollerDetectsAndRedetects: the first poll picks apc-ups from
// the sysObjectID; after the card is swapped for a UPS-MIB one, a poll
// finds none of apc-ups' objects and the next picks rfc1628-ups.
func TestAutoPollerDetectsAndRedetects(t *testing.T) {
	set := builtinSet(t)
	agent := newFakeAgent(t, "testdata/apc-ups.snmpwalk").withSystem("1.3.6.1.4.1.318.1.3.2.12", "APC Web/SNMP Management Card")
	cfg := testConfig("2c")
	cfg.Device.Profile = ProfileAuto
	ap, err := NewAutoWithTransport(cfg, set, agent, nil)
	if err != nil {
		t.Fatal(err)
	}
	poll := func() (string, string, int) {
		t.Helper()
		s, _ := ap.Poll(context.Background())
		good := 0
		for _, v := range s.Values {
			if v.Quality.String() == "good" {
				good++
			}
		}
		return s.Device.Profile, s.Device.Class, good
	}
	if prof, class, good := poll(); prof != "apc-ups" || class != "ups" || good == 0 {
		t.Fatalf("first poll: profile %q class %q, %d good values; want apc-ups, ups, some good", prof, class, good)
	}
	if id := ap.Identity(); id.SysObjectID != "1.3.6.1.4.1.318.1.3.2.12" {
		t.Errorf("identity %+v", id)
	}
	detects := func() int {
		n := 0
		for _, c := range agent.takeCalls() {
			if c.op == "get" && len(c.oids) > 0 && c.oids[0] == OIDSysObjectID {
				n++
			}
		}
		return n
	}
	_ = detects()
	if _, _, good := poll(); good == 0 || detects() != 0 {
		t.Fatal("second poll detected again or lost the values")
	}

	// The card is swapped: the agent now serves UPS-MIB only.
	swapped := newFakeAgent(t, "testdata/rfc1628-ups.snmpwalk").withSystem("1.3.6.1.4.1.8072.3.2.10", "Linux ups-card")
	agent.mu.Lock()
	agent.objs, agent.sorted = swapped.objs, swapped.sorted
	agent.mu.Unlock()
	if prof, _, good := poll(); prof != "apc-ups" || good != 0 {
		t.Fatalf("poll after the swap: %q with %d good values; want apc-ups with none", prof, good)
	}
	if prof, _, good := poll(); prof != "rfc1628-ups" || good == 0 || detects() != 1 {
		t.Fatalf("next poll: %q with %d good values; want rfc1628-ups detected once", prof, good)
	}
}
