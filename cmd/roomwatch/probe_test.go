package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors/nut/nuttest"
)

func probe(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runProbe(args, &out, &errb)
	return code, out.String(), errb.String()
}

// silentUDP is an address that takes datagrams and never answers, as an
// SNMP agent does for a wrong community.
func silentUDP(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return c.LocalAddr().String()
}

func TestProbeTimeoutHints(t *testing.T) {
	addr := silentUDP(t)
	for _, c := range []struct{ name, url, hint string }{
		{"v2c community", "snmp://" + addr + "?version=2c&community=wrong", "community="},
		{"v3 credentials", "snmp://ops@" + addr + "?version=3&auth=SHA&authpass=wrongpass1&priv=AES&privpass=wrongpass2", "v3 user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := probe(t, c.url, "--profile", "rfc1628-ups", "--timeout", "300ms", "--retries", "0")
			if code == 0 {
				t.Fatal("probe of a silent agent exited 0")
			}
			if !strings.Contains(stderr, c.hint) || !strings.Contains(stderr, "提示") {
				t.Errorf("no hint about %q:\n%s", c.hint, stderr)
			}
			if n := strings.Count(stderr, addr); n != 1 {
				t.Errorf("the device URL appears %d times, want once:\n%s", n, stderr)
			}
			if strings.Contains(stderr, "wrongpass") {
				t.Errorf("a secret is printed:\n%s", stderr)
			}
		})
	}
}

func TestProbeNamesMissingSerialPort(t *testing.T) {
	port := filepath.Join(t.TempDir(), "ttyUSB9")
	code, _, stderr := probe(t, "modbus+rtu://"+port+"?unit=1", "--profile", "modbus-th")
	if code == 0 || !strings.Contains(stderr, "serial port "+port+" does not exist") || !strings.Contains(stderr, "串口 "+port+" 不存在") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// A UPS read through a real upsd: the values print, exit 0; a profile
// that fits nothing the UPS reports exits non-zero and says so.
func TestProbeNUT(t *testing.T) {
	srv := nuttest.Start(t, "ups.status: OB LB\nbattery.charge: 42\nbattery.runtime: 600\nups.load: 30\n")
	url := "nut://" + srv.Addr + "/" + nuttest.UPS
	code, stdout, stderr := probe(t, url, "--timeout", "3s")
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"on_battery", "true", "runtime_min", "10", "charge_pct", "42", "battery_temp_c", "sensor-fault", "battery.temperature"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, srv.Addr); n != 1 {
		t.Errorf("the URL appears %d times, want once:\n%s", n, stdout)
	}

	dir := t.TempDir()
	wrong := "name: wrong-nut\nclass: env\nprotocol: nut\ndescription: x\nsource: test\nvalues:\n" +
		"  - {name: temperature_c, unit: °C, var: ambient.temperature, type: number, sim: \"22\"}\n" +
		"  - {name: humidity_pct, unit: \"%\", var: ambient.humidity, type: number, sim: \"40\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "wrong.yaml"), []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = probe(t, url, "--profile", "wrong-nut", "--profiles-dir", dir, "--timeout", "3s")
	if code == 0 {
		t.Fatalf("a profile with no good value exited 0:\n%s", stdout)
	}
	if !strings.Contains(stderr, "no value of profile wrong-nut is good") || !strings.Contains(stderr, "没有一个值有效") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if !strings.Contains(stdout, "ambient.temperature") {
		t.Errorf("the table does not name the missing variable:\n%s", stdout)
	}
}
