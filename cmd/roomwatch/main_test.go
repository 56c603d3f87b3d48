package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The InfluxDB client's HTTP transport keeps idle connections.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	)
}

// writeConfig writes a monitor configuration for tests: everything on
// loopback with free ports, state in dir, devices served by simulators.
// devices is the YAML list of the one room's devices.
func writeConfig(t testing.TB, dir, influxURL, devices string, extra ...string) string {
	t.Helper()
	cfg := fmt.Sprintf(`state_dir: %s
http: {listen: "127.0.0.1:0"}
log: {level: warn}
nats: {listen: "127.0.0.1:0", store_dir: %s}
influx: {url: %q, bucket: roomwatch/autogen, flush_interval: 100ms}
defaults: {interval: 200ms, timeout: 150ms}
%s
sites:
  - name: test
    title: 测试院区
    rooms:
      - name: dc1
        title: 一号机房
        carry_time: 30m
        devices:
%s`, dir, filepath.Join(dir, "jetstream"), influxURL, strings.Join(extra, "\n"), indent(devices, "          "))
	path := filepath.Join(dir, "roomwatch.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = by + strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "\n") + "\n"
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting after %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
