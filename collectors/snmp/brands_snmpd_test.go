package snmp

import (
	"path/filepath"
	"testing"
)

// TestSnmpdBrands serves each brand profile's recorded response from
// net-snmp snmpd and polls it over SNMPv2c: the values the profile must
// decode to come back through a real agent, tables walked with GETBULK.
func TestSnmpdBrands(t *testing.T) {
	for _, name := range []string{"eaton-xups", "huawei-ups", "liebert-gp"} {
		t.Run(name, func(t *testing.T) {
			addr := runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, filepath.Join("testdata", name+".snmpwalk")))
			s, err := pollOnce(t, snmpdConfig(t, addr, "2c"), name)
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, s.Values, readWant(t, name))
		})
	}
}
