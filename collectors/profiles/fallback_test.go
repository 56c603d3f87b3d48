package profiles

import (
	"strings"
	"testing"
)

func TestFallbackValidation(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"bad fallback oid", "name: x\nclass: ups\nprotocol: snmp\nvalues:\n  - name: v\n    oid: 1.3.6.1.2.1.1.0\n    type: integer\n    fallback:\n      - {oid: upsAdvBatteryCapacity, type: gauge32}\n",
			"values[0].fallback[0].oid"},
		{"bad fallback type", "name: x\nclass: ups\nprotocol: snmp\nvalues:\n  - name: v\n    oid: 1.3.6.1.2.1.1.0\n    type: integer\n    fallback:\n      - {oid: 1.3.6.1.2.1.2.0, type: float}\n",
			"values[0].fallback[0].type"},
		{"fallback on a walk", "name: x\nclass: ups\nprotocol: snmp\nvalues:\n  - name: v\n    oid: 1.3.6.1.2.1.1\n    walk: true\n    type: integer\n    fallback:\n      - {oid: 1.3.6.1.2.1.2, type: integer}\n",
			"values[0].fallback"},
		{"oid fallback on modbus", "name: x\nclass: ups\nprotocol: modbus\nvalues:\n  - name: v\n    table: holding\n    address: 1\n    type: uint16\n    fallback:\n      - {oid: 1.3.6.1.2.1.2.0, type: integer}\n",
			"values[0].fallback[0].oid: oid is for SNMP profiles"},
		{"modbus fallback of another kind", "name: x\nclass: ups\nprotocol: modbus\nvalues:\n  - name: v\n    table: holding\n    address: 1\n    type: uint16\n    fallback:\n      - {table: coil, address: 3, type: bool}\n",
			"values[0].fallback[0].type"},
		{"modbus fallback table", "name: x\nclass: ups\nprotocol: modbus\nvalues:\n  - name: v\n    table: holding\n    address: 1\n    type: uint16\n    fallback:\n      - {table: register, address: 3, type: uint16}\n",
			"values[0].fallback[0].table"},
		{"modbus keys on an snmp fallback", "name: x\nclass: ups\nprotocol: snmp\nvalues:\n  - name: v\n    oid: 1.3.6.1.2.1.1.0\n    type: integer\n    fallback:\n      - {oid: 1.3.6.1.2.1.2.0, type: integer, table: holding}\n",
			"values[0].fallback[0]: table, order and bit are for Modbus profiles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestSourceSwapsOIDTypeAndScale(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	f, ok := set["apc-ups"].Field("charge_pct")
	if !ok || f.Sources() != 2 {
		t.Fatalf("apc-ups charge_pct: want a high-precision object and an Adv fallback")
	}
	adv := f.Source(1)
	if adv.OID != "1.3.6.1.4.1.318.1.1.1.2.2.1.0" || adv.Scale != 0 || adv.Name != f.Name || adv.Max == nil || *adv.Max != 100 {
		t.Errorf("fallback source %+v", adv)
	}
	if f.Source(0) != f || f.Source(5) != f {
		t.Error("source 0 (and out of range) is the field itself")
	}
	if got := adv.Convert(99, false, adv.OID); got.Num != 99 {
		t.Errorf("Adv 99 %% decodes to %v", got.Num)
	}
}
