package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/testutil"
)

// `roomwatch sim --count 0 --modem PATH` is the GSM modem alone, as
// `make run` starts it beside the monitor's own simulated devices: it
// prints the modem's line and no device table or scenario control, which
// would name devices the monitor does not poll. Without --modem, --count
// 0 has nothing to simulate and says so.
func TestSimModemAlone(t *testing.T) {
	testutil.NeedProgram(t, "socat", "install the Debian package socat")
	bin := buildBinary(t)

	out, err := exec.Command(bin, "sim", "--count", "0", "--control", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no devices to simulate") {
		t.Errorf("sim --count 0 without a modem: %v, %q", err, out)
	}

	port := filepath.Join(t.TempDir(), "ttyRW0")
	cmd := exec.Command(bin, "sim", "--count", "0", "--control", "127.0.0.1:0", "--modem", port)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []string
	timeout := time.After(30 * time.Second)
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "modem:") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sim exited; printed %q", got)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("no modem line in 30 s; printed %q", got)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], port) {
		t.Errorf("printed %q, want only the modem's line naming %s", got, port)
	}
	if _, err := os.Lstat(port); err != nil {
		t.Errorf("modem port: %v", err)
	}
}
