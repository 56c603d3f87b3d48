// Package testutil holds what roomwatch's tests share: waiting on state
// under a deadline (never a sleep standing in for synchronisation), and
// requiring a real peer, which fails the test under CI=true and skips it
// otherwise.
package testutil

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pollEvery is how often Eventually looks at the state.
const pollEvery = 10 * time.Millisecond

// Eventually polls cond until it reports done, and fails the test if that
// has not happened within the given time, naming what it waited for and
// the state cond last described.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			if state != "" {
				state = " (" + state + ")"
			}
			t.Fatalf("gave up after %v waiting for %s%s", within, what, state)
		}
		<-tick.C
	}
}

// PeerMissing ends a test that needs a real peer (a program, a server)
// which is not there: a failure under CI=true, where every peer is
// installed, a skip elsewhere.
func PeerMissing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: every peer must be installed)", msg)
	}
	t.Skip(msg)
}

// NeedProgram returns the path of a peer program, looked up on PATH, then
// in /usr/sbin (daemons such as snmpd) and GOPATH/bin (influxd); when it
// is nowhere, PeerMissing with install, a hint how to get it.
func NeedProgram(t testing.TB, prog, install string) string {
	t.Helper()
	if p, err := exec.LookPath(prog); err == nil {
		return p
	}
	dirs := []string{"/usr/sbin"}
	for _, d := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	PeerMissing(t, "%s not found on PATH, in /usr/sbin or GOPATH/bin: %s", prog, install)
	return ""
}

// Shanghai is Asia/Shanghai, the hospital's time zone, for tests that
// pin a local wall-clock time.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()
