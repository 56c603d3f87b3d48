package snmpsim

import (
	"context"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors/snmp"
)

// BenchmarkPollAgent is one poll of each SNMP built-in profile against
// the in-process agent simulator over loopback UDP (client and agent
// CPU both count here).
func BenchmarkPollAgent(b *testing.B) {
	for _, name := range []string{"rfc1628-ups", "apc-ups", "apc-env"} {
		b.Run(name, func(b *testing.B) {
			store := simStore(b, map[string]string{"d": name})
			pl, err := snmp.New(testConfig(simAgent(b, store, "public", "d")["d"], "2c"), builtin(b, name), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer pl.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pl.Poll(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAgentRequest is the simulator's cost of one request (decode,
// answer, encode; no socket): a GET of the rfc1628-ups profile's 8
// scalars, and the GETBULK of its 3 columns.
func BenchmarkAgentRequest(b *testing.B) {
	p := builtin(b, "rfc1628-ups")
	store := simStore(b, map[string]string{"d": "rfc1628-ups"})
	a := NewAgent(store, nil)
	enc := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	var scalars, columns []gosnmp.SnmpPDU
	for _, f := range p.Fields {
		v := gosnmp.SnmpPDU{Name: f.OID, Type: gosnmp.Null}
		if f.Walk {
			columns = append(columns, v)
		} else {
			scalars = append(scalars, v)
		}
	}
	for _, tc := range []struct {
		name string
		typ  gosnmp.PDUType
		vars []gosnmp.SnmpPDU
		reps uint32
	}{
		{"get8", gosnmp.GetRequest, scalars, 0},
		{"getbulk3x2", gosnmp.GetBulkRequest, columns, 2},
	} {
		b.Run(tc.name, func(b *testing.B) {
			in, err := enc.SnmpEncodePacket(tc.typ, tc.vars, 0, tc.reps)
			if err != nil {
				b.Fatal(err)
			}
			dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
			var m *mib
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := a.handle(dec, &m, "d", "public", in); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
