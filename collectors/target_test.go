package collectors

import (
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func TestParseTarget(t *testing.T) {
	t.Setenv(EnvAuthPass, "from-env-auth")
	cases := []struct {
		name, url string
		want      Target
		err       string
	}{
		{name: "v2c default port", url: "snmp://10.0.0.5?version=2c&community=hospital",
			want: Target{Scheme: "snmp", Host: "10.0.0.5:161", Version: "2c", Community: "hospital"}},
		{name: "v3 authPriv, authpass from env", url: "snmp://ops@ups1:1161?version=3&auth=sha256&priv=aes&privpass=p2",
			want: Target{Scheme: "snmp", Host: "ups1:1161", Version: "3", User: "ops", Auth: "SHA256", AuthPass: "from-env-auth", Priv: "AES", PrivPass: "p2"}},
		{name: "modbus tcp", url: "modbus+tcp://gw:5020?unit=7",
			want: Target{Scheme: "modbus+tcp", Host: "gw:5020", Unit: 7}},
		{name: "modbus rtu defaults", url: "modbus+rtu:///dev/ttyUSB0?unit=2",
			want: Target{Scheme: "modbus+rtu", Port: "/dev/ttyUSB0", Unit: 2, Baud: 9600, DataBits: 8, Parity: "N", StopBits: 1}},
		{name: "modbus rtu even parity", url: "modbus+rtu:///dev/ttyS1?baud=19200&parity=e&unit=3",
			want: Target{Scheme: "modbus+rtu", Port: "/dev/ttyS1", Unit: 3, Baud: 19200, DataBits: 8, Parity: "E", StopBits: 1}},
		{name: "nut default port", url: "nut://nutsrv/ups",
			want: Target{Scheme: "nut", Host: "nutsrv:3493", UPS: "ups"}},
		{name: "nut with login", url: "nut://mon:pw@127.0.0.1:3500/apc1",
			want: Target{Scheme: "nut", Host: "127.0.0.1:3500", UPS: "apc1", User: "mon", Password: "pw"}},
		{name: "nut without ups", url: "nut://nutsrv", err: "want the UPS name"},
		{name: "nut password redacted", url: "nut://mon:s3cret@nutsrv/ups?x=1", err: `unknown parameter "x"`},
		{name: "v3 without user", url: "snmp://ups1?version=3", err: "SNMPv3 needs a user"},
		{name: "bad version", url: "snmp://ups1?version=4", err: `version="4"`},
		{name: "unknown scheme", url: "http://ups1", err: `unknown scheme "http"`},
		{name: "no scheme", url: "ups1:161", err: "unknown scheme"},
		{name: "unit out of range", url: "modbus+tcp://gw?unit=300", err: `unit="300"`},
		{name: "unknown parameter", url: "modbus+tcp://gw?unti=3", err: `unknown parameter "unti"`},
		{name: "rtu without port", url: "modbus+rtu://?unit=1", err: "want a serial port"},
		{name: "bad parity", url: "modbus+rtu:///dev/ttyS0?parity=X", err: `parity="X"`},
		{name: "secret redacted", url: "snmp://ups1?version=2c&community=s3cret&bogus=1", err: "community=xxxxx"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTarget(c.url)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error leaks the community: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	tg, err := ParseTarget("snmp://u@h?version=3&authpass=topsecret&privpass=alsosecret")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{tg.String(), yamlconf.Secret("topsecret").String(), yamlconf.Secret("x").GoString()} {
		if strings.Contains(s, "secret") && !strings.Contains(s, "<secret>") {
			t.Errorf("%q leaks a secret", s)
		}
	}
}
