package snmp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// withSystem adds a system group to a fake agent.
func (a *fakeAgent) withSystem(sysOID, descr string) *fakeAgent {
	add := func(p gosnmp.SnmpPDU) {
		a.objs[trimDot(p.Name)] = p
		a.sorted = append(a.sorted, trimDot(p.Name))
	}
	add(gosnmp.SnmpPDU{Name: "." + OIDSysObjectID, Type: gosnmp.ObjectIdentifier, Value: "." + sysOID})
	add(gosnmp.SnmpPDU{Name: "." + OIDSysDescr, Type: gosnmp.OctetString, Value: []byte(descr)})
	return a
}

func builtinSet(t testing.TB) profiles.Set {
	t.Helper()
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestDetectRecorded picks profiles for recorded agents: sysObjectIDs
// seen from APC cards (NUT drivers/apc-mib.c lists them), a UPS-MIB card
// behind a generic net-snmp agent, and an APC agent that is no UPS.
func TestDetectRecorded(t *testing.T) {
	cases := []struct {
		name, walk, sysOID, want, why string
		v1                            bool
		extra                         string // an OID the recording lacks, answered as a string
	}{
		{name: "apc smart-ups", walk: "apc-ups", sysOID: "1.3.6.1.4.1.318.1.3.2.12", want: "apc-ups", why: "matches its sysobjectid"},
		{name: "apc smart-ups v1", walk: "apc-ups", sysOID: "1.3.6.1.4.1.318.1.3.2.7", want: "apc-ups", v1: true},
		{name: "apc other product line answering the ups branch", walk: "apc-ups", sysOID: "1.3.6.1.4.1.318.1.3.27", want: "apc-ups"},
		{name: "apc card without the ups branch", walk: "apc-env", sysOID: "1.3.6.1.4.1.318.1.3.27", want: "", why: "tried apc-ups (no 1.3.6.1.4.1.318.1.1.1.1.1.1.0)"},
		{name: "rfc1628 on net-snmp", walk: "rfc1628-ups", sysOID: "1.3.6.1.4.1.8072.3.2.10", want: "rfc1628-ups", why: "no vendor profile fits"},
		{name: "rfc1628 on an unknown vendor", walk: "rfc1628-ups", sysOID: "1.3.6.1.4.1.99999.1", want: "rfc1628-ups"},
		{name: "apc sysObjectID, only UPS-MIB served", walk: "rfc1628-ups", sysOID: "1.3.6.1.4.1.318.1.3.2.12", want: "rfc1628-ups"},
		// NUT powerware-mib.c: POWERWARE_SYSOID, EATON_PXGX_SYSOID; xupsIdentModel.
		{name: "eaton x-slot", walk: "eaton-xups", sysOID: "1.3.6.1.4.1.534.1", extra: "1.3.6.1.4.1.534.1.1.2.0", want: "eaton-xups"},
		{name: "eaton pxgx ups", walk: "eaton-xups", sysOID: "1.3.6.1.4.1.534.2.12", extra: "1.3.6.1.4.1.534.1.1.2.0", want: "eaton-xups"},
		{name: "eaton pxgx pdu", walk: "rfc1628-ups", sysOID: "1.3.6.1.4.1.534.2.12", want: "rfc1628-ups", why: "tried eaton-xups"},
		// NUT huawei-mib.c: HUAWEI_SYSOID is net-snmp's generic value.
		{name: "huawei card", walk: "huawei-ups", sysOID: "1.3.6.1.4.1.8072.3.2.10", want: "huawei-ups"},
		{name: "linux box with UPS-MIB", walk: "rfc1628-ups", sysOID: "1.3.6.1.4.1.8072.3.2.10", want: "rfc1628-ups", why: "tried huawei-ups"},
		// Checkmk DETECT_LIEBERT: sysObjectID under 1.3.6.1.4.1.476.1.42.
		{name: "liebert intellislot", walk: "liebert-gp", sysOID: "1.3.6.1.4.1.476.1.42", want: "liebert-gp"},
	}
	set := builtinSet(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newFakeAgent(t, "testdata/"+c.walk+".snmpwalk").withSystem(c.sysOID, "recorded "+c.walk)
			if c.extra != "" {
				a.objs[c.extra] = gosnmp.SnmpPDU{Name: "." + c.extra, Type: gosnmp.OctetString, Value: []byte("model")}
				a.sorted = append(a.sorted, c.extra)
			}
			a.v1 = c.v1
			id, err := Detect(context.Background(), a, set)
			if err != nil {
				t.Fatal(err)
			}
			if id.ProfileName() != c.want || !strings.Contains(id.Why, c.why) {
				t.Fatalf("got profile %q (%s), want %q (…%s…)", id.ProfileName(), id.Why, c.want, c.why)
			}
			if id.SysObjectID != c.sysOID || id.SysDescr != "recorded "+c.walk {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

// TestDetectNoAnswer: an agent that does not answer is an error, not a
// "no profile".
func TestDetectNoAnswer(t *testing.T) {
	a := newFakeAgent(t, "testdata/apc-ups.snmpwalk")
	a.err = context.DeadlineExceeded
	if _, err := Detect(context.Background(), a, builtinSet(t)); err == nil {
		t.Fatal("no error from a silent agent")
	}
}

// TestDetectSnmpd detects profiles on net-snmp snmpd configured with a
// vendor's sysObjectID (the sysobjectid directive) and with its own.
func TestDetectSnmpd(t *testing.T) {
	set := builtinSet(t)
	cases := []struct{ name, conf, want string }{
		{"apc", "sysobjectid .1.3.6.1.4.1.318.1.3.2.12\n" + overrides(t, "testdata/apc-ups.snmpwalk"), "apc-ups"},
		{"rfc1628", overrides(t, "testdata/rfc1628-ups.snmpwalk"), "rfc1628-ups"},
		{"plain linux host", "sysobjectid .1.3.6.1.4.1.318.1.3.2.12\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+c.conf)
			cfg := snmpdConfig(t, addr, "2c")
			id, err := DetectTarget(context.Background(), cfg.Target, 5*time.Second, 1, set)
			if err != nil {
				t.Fatal(err)
			}
			if id.ProfileName() != c.want || id.SysDescr == "" {
				t.Fatalf("got %q (%s), identity %+v; want %q", id.ProfileName(), id.Why, id, c.want)
			}
			t.Logf("%s: %s: %s", c.name, id.SysObjectID, id.Why)
		})
	}
}
