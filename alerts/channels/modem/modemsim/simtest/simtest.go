// Package simtest starts the simulated modem for tests of the packages
// that talk to it (the modem channel, the notifier).
package simtest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// Start serves a simulated modem on a socat pty pair (its end named
// ttyUSB0 in t's temporary directory), closed when t ends. socat missing
// fails the test under CI=true and skips it otherwise.
func Start(t testing.TB) *modemsim.Sim {
	t.Helper()
	NeedSocat(t)
	s, err := modemsim.Start(filepath.Join(t.TempDir(), "ttyUSB0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// NeedSocat ends t (testutil.PeerMissing) when socat is not on PATH.
func NeedSocat(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		testutil.PeerMissing(t, "socat is needed for the simulated modem: %v", err)
	}
}
