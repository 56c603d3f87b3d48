package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/sim/snmpsim"
)

// serveSimAgent serves one simulated device of profile over SNMP on a
// random loopback port, answering sysOID as its sysObjectID.
func serveSimAgent(t *testing.T, profile, sysOID string) string {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	store := sim.NewStore()
	if err := store.Add("dev", set[profile]); err != nil {
		t.Fatal(err)
	}
	agent := snmpsim.NewAgent(store, nil)
	if sysOID != "" {
		agent.SetSysObjectID("dev", sysOID)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = agent.Serve(ctx, conn, "dev", "public") }()
	t.Cleanup(func() { cancel(); <-done; conn.Close() })
	return conn.LocalAddr().String()
}

// TestProbeAuto: `probe --profile auto` names the profile it chose and
// why, in the table and in --json, and fails when none fits.
func TestProbeAuto(t *testing.T) {
	addr := serveSimAgent(t, "apc-ups", "1.3.6.1.4.1.318.1.3.2.12")
	var out, errb strings.Builder
	if code := run([]string{"probe", "snmp://" + addr + "?version=2c", "--profile", "auto"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "自动识别 auto-detected: apc-ups (sysObjectID 1.3.6.1.4.1.318.1.3.2.12 matches") {
		t.Errorf("table output:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"probe", "snmp://" + addr + "?version=2c", "--profile", "auto", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var j probeJSON
	if err := json.Unmarshal([]byte(out.String()), &j); err != nil || j.Profile != "apc-ups" || j.Detected == nil || j.Detected.SysObjectID != "1.3.6.1.4.1.318.1.3.2.12" {
		t.Errorf("json %+v (%v):\n%s", j, err, out.String())
	}

	// An APC agent without the UPS branch: no profile fits, exit 1.
	env := serveSimAgent(t, "apc-env", "1.3.6.1.4.1.318.1.3.27")
	out.Reset()
	errb.Reset()
	if code := run([]string{"probe", "snmp://" + env + "?version=2c", "--profile", "auto"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no profile fits sysObjectID 1.3.6.1.4.1.318.1.3.27") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
}

// TestProbeAutoSilentAgent: auto-detection that gets no answer hints at
// the community, as a poll does.
func TestProbeAutoSilentAgent(t *testing.T) {
	addr := serveSimAgent(t, "apc-ups", "")
	var out, errb strings.Builder
	code := run([]string{"probe", "snmp://" + addr + "?version=2c&community=wrong", "--profile", "auto", "--timeout", "300ms", "--retries", "0"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "auto-detect") || !strings.Contains(errb.String(), "community") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
}
