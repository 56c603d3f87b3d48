// Package nuttest runs a real Network UPS Tools upsd with the dummy-ups
// driver for tests: loopback, a random port, configuration and state in
// the test's temp dir, both processes stopped at cleanup. A test changes
// what the UPS reports by rewriting its .dev file (Server.Set).
package nuttest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/testutil"
)

// UPS is the name the dummy UPS has in upsd.
const UPS = "ups"

// User and Password are an upsd.users account the tests may log in with.
const (
	User     = "monitor"
	Password = "s3cret pass"
)

// Server is a running upsd with one dummy-ups UPS.
type Server struct {
	// Addr is upsd's host:port on 127.0.0.1.
	Addr  string
	dev   string
	mtime time.Time // of the .dev file, moved forward by every Set
	t     testing.TB
}

// dirs where distributions install upsd and the drivers (Debian: the
// /usr/sbin/upsd wrapper refuses to start without /etc/nut/nut.conf, so
// the binary in /lib/nut comes first).
var dirs = []string{"/lib/nut", "/usr/lib/nut", "/usr/libexec/nut", "/usr/lib/nut/bin", "/usr/sbin", "/sbin"}

// find returns the path of a NUT program; a missing one fails the test
// under CI=true and skips it otherwise.
func find(t testing.TB, name string) string {
	t.Helper()
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	testutil.PeerMissing(t, "NUT %s not found in %v or on PATH: install nut-server (.ci/install-peers)", name, dirs)
	return ""
}

// Start writes ups.conf, upsd.conf and upsd.users into a temp dir, starts
// dummy-ups on a .dev file holding dev (NUT "name: value" lines) and upsd
// on a free loopback port, and waits until upsd serves the UPS's data.
func Start(t testing.TB, dev string) *Server {
	t.Helper()
	upsd, driver := find(t, "upsd"), find(t, "dummy-ups")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{dev: filepath.Join(dir, UPS+".dev"), t: t}
	s.write(dev)
	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", port)
	files := map[string]string{
		"nut.conf":   "MODE=standalone\n",
		"ups.conf":   fmt.Sprintf("[%s]\n\tdriver = dummy-ups\n\tport = %s\n\tpollinterval = 1\n\tdesc = \"roomwatch test\"\n", UPS, s.dev),
		"upsd.conf":  fmt.Sprintf("LISTEN 127.0.0.1 %s\nMAXAGE 15\n", port),
		"upsd.users": fmt.Sprintf("[%s]\n\tpassword = %q\n\tupsmon secondary\n", User, Password),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "NUT_CONFPATH="+dir, "NUT_STATEPATH="+state)
	// As root, NUT drops to its own "nut" user unless told otherwise;
	// that user could not read the temp dir.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"-u", "root"}
	}
	s.run(driver, env, filepath.Join(dir, "dummy-ups.log"), append([]string{"-a", UPS, "-F"}, asUser...)...)
	s.run(upsd, env, filepath.Join(dir, "upsd.log"), append([]string{"-F"}, asUser...)...)
	s.waitServing(dir)
	return s
}

// Set rewrites the .dev file; dummy-ups reads it again within a second or
// two (it compares the file's modification time, in whole seconds, so the
// time is moved forward explicitly).
func (s *Server) Set(dev string) {
	s.t.Helper()
	s.write(dev)
}

func (s *Server) write(dev string) {
	s.t.Helper()
	if err := os.WriteFile(s.dev, []byte(dev), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if s.mtime.IsZero() {
		s.mtime = time.Now().Add(-time.Hour)
	} else {
		s.mtime = s.mtime.Add(10 * time.Second)
	}
	if err := os.Chtimes(s.dev, s.mtime, s.mtime); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) run(path string, env []string, logFile string, args ...string) {
	s.t.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("start %s: %v", path, err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
}

// waitServing waits until LIST VAR answers with a ups.status that is not
// WAIT (the driver has read the .dev file and upsd is connected to it).
func (s *Server) waitServing(dir string) {
	s.t.Helper()
	served := false
	defer func() {
		if !served {
			logs, _ := os.ReadFile(filepath.Join(dir, "upsd.log"))
			dlogs, _ := os.ReadFile(filepath.Join(dir, "dummy-ups.log"))
			s.t.Logf("upsd: %s\ndummy-ups: %s", logs, dlogs)
		}
	}()
	testutil.Eventually(s.t, 20*time.Second, "upsd to serve "+UPS+" on "+s.Addr, func() (bool, string) {
		status, err := s.status()
		if err != nil {
			return false, err.Error()
		}
		return status != "" && status != "WAIT", "ups.status " + status
	})
	served = true
}

// status asks upsd for ups.status over a fresh connection.
func (s *Server) status() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintf(conn, "GET VAR %s ups.status\nLOGOUT\n", UPS); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	prefix := "VAR " + UPS + " ups.status "
	if !strings.HasPrefix(line, prefix) {
		return "", fmt.Errorf("%s", line)
	}
	return strings.Trim(strings.TrimPrefix(line, prefix), `"`), nil
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
