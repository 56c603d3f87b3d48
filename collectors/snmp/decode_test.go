package snmp

import (
	"math"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

func ptr(x float64) *float64 { return &x }

func TestDecode(t *testing.T) {
	const oid = "1.3.6.1.4.1.99999.1.0"
	pdu := func(typ gosnmp.Asn1BER, v any) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: "." + oid, Type: typ, Value: v}
	}
	tests := []struct {
		name    string
		field   profiles.Field
		pdu     gosnmp.SnmpPDU
		errs    string
		want    float64
		str     string
		quality collectors.Quality
		errHas  string
	}{
		{name: "integer scaled 0.1 V", field: profiles.Field{Type: "integer", Scale: 0.1}, pdu: pdu(gosnmp.Integer, 546), want: 54.6},
		{name: "negative integer", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.Integer, -12), want: -12},
		{name: "gauge32", field: profiles.Field{Type: "gauge32", Scale: 0.1}, pdu: pdu(gosnmp.Gauge32, uint(2284)), want: 228.4},
		{name: "gauge32 where profile says integer", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.Gauge32, uint(7)), want: 7},
		{name: "unsigned32 as gauge32", field: profiles.Field{Type: "gauge32"}, pdu: pdu(gosnmp.Uinteger32, uint32(9)), want: 9},
		{name: "counter32", field: profiles.Field{Type: "counter32"}, pdu: pdu(gosnmp.Counter32, uint(4294967295)), want: 4294967295},
		{name: "counter64", field: profiles.Field{Type: "counter64"}, pdu: pdu(gosnmp.Counter64, uint64(1)<<40), want: 1 << 40},
		{name: "timeticks to minutes", field: profiles.Field{Type: "timeticks", Scale: 1.0 / 6000}, pdu: pdu(gosnmp.TimeTicks, uint32(282000)), want: 47},
		{name: "timeticks to seconds", field: profiles.Field{Type: "timeticks", Scale: 0.01}, pdu: pdu(gosnmp.TimeTicks, uint32(30050)), want: 300.5},
		{name: "octet string text", field: profiles.Field{Type: "octetstring"}, pdu: pdu(gosnmp.OctetString, []byte("Smart-UPS 3000")), str: "Smart-UPS 3000"},
		{name: "octet string code as bool", field: profiles.Field{Type: "octetstring", True: []int64{1}}, pdu: pdu(gosnmp.OctetString, []byte(" 1 ")), want: 1},
		{name: "enum", field: profiles.Field{Type: "integer", Enum: map[int64]string{2: "normal", 3: "low"}}, pdu: pdu(gosnmp.Integer, 3), want: 3, str: "low"},
		{name: "bool from enum code", field: profiles.Field{Type: "integer", True: []int64{5}}, pdu: pdu(gosnmp.Integer, 5), want: 1},
		{name: "bool false", field: profiles.Field{Type: "integer", True: []int64{5}}, pdu: pdu(gosnmp.Integer, 3), want: 0},

		{name: "noSuchObject", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.NoSuchObject, nil), quality: collectors.SensorFault, errHas: oid + ": noSuchObject"},
		{name: "noSuchInstance", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.NoSuchInstance, nil), quality: collectors.SensorFault, errHas: oid + ": noSuchInstance"},
		{name: "endOfMibView", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.EndOfMibView, nil), quality: collectors.SensorFault, errHas: oid + ": endOfMibView"},
		{name: "absent from response", field: profiles.Field{Type: "integer"}, pdu: gosnmp.SnmpPDU{}, quality: collectors.SensorFault, errHas: oid + ": no value"},
		{name: "v1 noSuchName", field: profiles.Field{Type: "integer"}, errs: oid + ": agent answered noSuchName (error-index 2)", quality: collectors.SensorFault, errHas: "noSuchName"},
		{name: "counter32 where timeticks expected", field: profiles.Field{Type: "timeticks"}, pdu: pdu(gosnmp.Counter32, uint(5)), quality: collectors.SensorFault, errHas: oid + ": wrong type counter32, profile expects timeticks"},
		{name: "string where integer expected", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.OctetString, []byte("42")), quality: collectors.SensorFault, errHas: "wrong type octetstring"},
		{name: "OID value", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.ObjectIdentifier, ".1.3"), quality: collectors.SensorFault, errHas: "wrong type ObjectIdentifier"},
		{name: "Null value", field: profiles.Field{Type: "integer"}, pdu: pdu(gosnmp.Null, nil), quality: collectors.SensorFault, errHas: "wrong type Null"},
		{name: "text that is no number", field: profiles.Field{Type: "octetstring", True: []int64{1}}, pdu: pdu(gosnmp.OctetString, []byte("n/a")), quality: collectors.SensorFault, errHas: `"n/a" is not a number`},
		{name: "sentinel -1", field: profiles.Field{Type: "integer", Sentinels: []float64{-1}}, pdu: pdu(gosnmp.Integer, -1), quality: collectors.SensorFault, errHas: "sentinel"},
		{name: "out of range", field: profiles.Field{Type: "integer", Max: ptr(100)}, pdu: pdu(gosnmp.Integer, 140), quality: collectors.SensorFault, errHas: "out of range"},
		{name: "enum code unknown", field: profiles.Field{Type: "integer", Enum: map[int64]string{2: "normal"}}, pdu: pdu(gosnmp.Integer, 9), quality: collectors.SensorFault, errHas: "not one of the profile's codes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.field
			f.Name, f.OID = "x", oid
			p := &profiles.Profile{Name: "t", Protocol: "snmp", Fields: []profiles.Field{f}}
			r := NewResponse(1)
			r.Vars[0], r.Errs[0] = tc.pdu, tc.errs
			got := Decode(p, &r, nil)
			if len(got) != 1 {
				t.Fatalf("got %d values, want 1", len(got))
			}
			v := got[0]
			if v.Name != "x" || v.Quality != tc.quality {
				t.Fatalf("got %s quality %s (%s), want x %s", v.Name, v.Quality, v.Err, tc.quality)
			}
			if tc.quality != collectors.Good {
				if !strings.Contains(v.Err, tc.errHas) {
					t.Fatalf("err %q does not contain %q", v.Err, tc.errHas)
				}
				return
			}
			if v.Err != "" {
				t.Fatalf("good value with err %q", v.Err)
			}
			if v.Str != tc.str {
				t.Fatalf("str %q, want %q", v.Str, tc.str)
			}
			if tc.str == "" || v.Kind == collectors.Enum {
				if math.Abs(v.Num-tc.want) > 1e-9 {
					t.Fatalf("num %v, want %v", v.Num, tc.want)
				}
			}
		})
	}
}

func TestDecodeWalkRowsAndInvert(t *testing.T) {
	p := &profiles.Profile{Name: "t", Protocol: "snmp", Fields: []profiles.Field{
		{Name: "input_voltage_v", Unit: "V", OID: "1.3.6.1.2.1.33.1.3.3.1.3", Walk: true, Type: "integer"},
		{Name: "output_voltage_v", Unit: "V", OID: "1.3.6.1.2.1.33.1.4.4.1.2", Walk: true, Type: "integer"},
		{Name: "door_open", OID: "1.3.6.1.4.1.99999.2.0", Type: "integer", True: []int64{1}},
	}}
	row := func(oid string, v any, typ gosnmp.Asn1BER) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: "." + oid, Type: typ, Value: v}
	}
	r := NewResponse(3)
	r.Rows[0] = []gosnmp.SnmpPDU{
		row("1.3.6.1.2.1.33.1.3.3.1.3.1", 231, gosnmp.Integer),
		row("1.3.6.1.2.1.33.1.3.3.1.3.2", uint(229), gosnmp.Gauge32),
		row("1.3.6.1.2.1.33.1.3.3.1.3.3", nil, gosnmp.NoSuchInstance),
	}
	r.Vars[2] = row("1.3.6.1.4.1.99999.2.0", 1, gosnmp.Integer)
	got := Decode(p, &r, func(n string) bool { return n == "door_open" })
	want := []struct {
		name string
		q    collectors.Quality
		num  float64
	}{
		{"input_voltage_v", collectors.Good, 231},
		{"input_voltage_v_l2", collectors.Good, 229},
		{"input_voltage_v_l3", collectors.SensorFault, 0},
		{"output_voltage_v", collectors.SensorFault, 0},
		{"door_open", collectors.Good, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Quality != w.q || (w.q == collectors.Good && g.Num != w.num) {
			t.Errorf("value %d: got %s %s %v (%s), want %s %s %v", i, g.Name, g.Quality, g.Num, g.Err, w.name, w.q, w.num)
		}
	}
	if !strings.Contains(got[2].Err, "1.3.6.1.2.1.33.1.3.3.1.3.3: noSuchInstance") {
		t.Errorf("row 3 err %q does not name its OID", got[2].Err)
	}
	if !strings.Contains(got[3].Err, "1.3.6.1.2.1.33.1.4.4.1.2: table column has no rows") {
		t.Errorf("empty column err %q", got[3].Err)
	}
}

func TestCompareOID(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.3.6.1", "1.3.6.1", 0},
		{"1.3.6.1", "1.3.6.1.0", -1},
		{"1.3.6.1.10", "1.3.6.1.9", 1},
		{"1.3.6.2", "1.3.6.1.99", 1},
	}
	for _, tc := range tests {
		if got := CompareOID(tc.a, tc.b); got != tc.want {
			t.Errorf("compareOID(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
