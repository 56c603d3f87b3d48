package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// HTTP clients (the InfluxDB client's, the tests' own) keep idle
		// keep-alive connections, each a read and a write loop. Nothing
		// else may be left: any other goroutine blocked on the network
		// (a NATS connection, a simulator's socket) is a leak.
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
