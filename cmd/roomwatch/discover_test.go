package main

import (
	"net"
	"slices"
	"strings"
	"testing"
)

// TestDiscoverCommand scans one loopback address served by a simulated
// APC agent and prints the table and the snippet.
func TestDiscoverCommand(t *testing.T) {
	addr := serveSimAgent(t, "apc-ups", "1.3.6.1.4.1.318.1.3.2.12")
	_, port, _ := net.SplitHostPort(addr)
	var out, errb strings.Builder
	code := run([]string{"discover", "127.0.0.1/32", "--snmp-port", port, "--rate", "200", "--timeout", "2s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"扫描 1 个地址",
		"发现 1 台设备",
		"地址 address",
		"127.0.0.1:" + port + "  SNMP",
		"apc-ups",
		"  - name: ups-127-0-0-1\n    profile: apc-ups\n    url: \"snmp://127.0.0.1:" + port + "?version=2c\"\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDiscoverRefuses(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"127.0.0.0/16"}, "more than 1024 addresses (a /22): scan a smaller range, or add --force"},
		{[]string{"127.0.0.1", "--rate", "0"}, "--rate 0: want 0 < rate <= 1000"},
		{[]string{"127.0.0.1", "--v3", "ops", "--community", "x"}, "--community and --v3 exclude each other"},
		{[]string{"127.0.0.1", "--modbus", "--units", "9-3"}, "--units \"9-3\""},
		{[]string{"127.0.0.1", "--no-snmp"}, "--no-snmp without --modbus probes nothing"},
	}
	for _, c := range cases {
		var out, errb strings.Builder
		if code := run(append([]string{"discover"}, c.args...), &out, &errb); code != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and …%s…", c.args, code, errb.String(), c.want)
		}
	}
}

func TestParseUnits(t *testing.T) {
	got, err := parseUnits("1-3,10, 247")
	if err != nil || !slices.Equal(got, []uint8{1, 2, 3, 10, 247}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "0-248", "a", "5-1"} {
		if _, err := parseUnits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
