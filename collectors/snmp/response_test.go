package snmp

import (
	"reflect"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// answerSeeds are GetResponses of every type a profile reads, and of a
// few the client's decoder leaves to gosnmp.
func answerSeeds(t testing.TB) [][]byte {
	t.Helper()
	vbs := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.33.1.2.4.0", Type: gosnmp.Integer, Value: 100},
		{Name: ".1.3.6.1.2.1.33.1.3.3.1.3.1", Type: gosnmp.Integer, Value: -2300},
		{Name: ".1.3.6.1.4.1.318.1.1.1.2.2.1.0", Type: gosnmp.Gauge32, Value: uint32(4000000000)},
		{Name: ".1.3.6.1.2.1.2.2.1.10.1", Type: gosnmp.Counter32, Value: uint32(123456)},
		{Name: ".1.3.6.1.2.1.31.1.1.1.6.1", Type: gosnmp.Counter64, Value: uint64(1) << 63},
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(987654)},
		{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: []byte("ups-1")},
		{Name: ".1.3.6.1.2.1.1.6.0", Type: gosnmp.OctetString, Value: []byte{}},
		{Name: ".1.3.6.1.2.1.33.1.9.9.0", Type: gosnmp.NoSuchObject},
		{Name: ".1.3.6.1.2.1.33.1.9.9.1", Type: gosnmp.NoSuchInstance},
		{Name: ".2.999.4294967295", Type: gosnmp.EndOfMibView},
		{Name: ".1.3.6.1.2.1.1.7.0", Type: gosnmp.Null},
	}
	others := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.2.12"},
		{Name: ".1.3.6.1.2.1.4.20.1.1.1", Type: gosnmp.IPAddress, Value: "127.0.0.1"},
	}
	var out [][]byte
	add := func(p gosnmp.SnmpPacket) {
		b, err := p.MarshalMsg()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		p := gosnmp.SnmpPacket{Version: v, Community: "public", PDUType: gosnmp.GetResponse, RequestID: minID + 7, Variables: vbs}
		add(p)
		p.Variables = nil
		add(p)
		p.Error, p.ErrorIndex, p.Variables = gosnmp.NoSuchName, 2, vbs[:3]
		add(p)
	}
	add(gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 1, Variables: others})
	add(gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "private", PDUType: gosnmp.GetResponse, RequestID: 1, Variables: vbs[:1]})
	add(gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest, RequestID: 1, Variables: vbs[:1]})
	return out
}

// decodeBoth decodes b with the client's decoder (twice: the second time
// with the names it kept) and with gosnmp's, and fails if the client's
// accepts what gosnmp's does not or decodes it otherwise.
func decodeBoth(t *testing.T, prime, b []byte) (ours bool) {
	t.Helper()
	var names []knownName
	r := response{names: &names}
	r.decodeResponse(prime, "public") // names of another answer to replace
	for try := range 2 {
		if !r.decodeResponse(b, "public") {
			if try > 0 {
				t.Fatal("decoded once, not twice")
			}
			return false
		}
		g := &gosnmp.GoSNMP{Version: r.pkt.Version, Community: "public", Logger: gosnmp.Logger{}}
		want, err := g.SnmpDecodePacket(b)
		if err != nil {
			t.Fatalf("gosnmp: %v, client's decoder: %+v", err, r.pkt)
		}
		detach(want)
		want.Logger = r.pkt.Logger
		got := r.pkt
		if len(got.Variables) == 0 && len(want.Variables) == 0 {
			got.Variables, want.Variables = nil, nil
		}
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("decoded\n%+v\ngosnmp\n%+v", got, *want)
		}
	}
	return true
}

func TestDecodeResponseAsGosnmp(t *testing.T) {
	seeds := answerSeeds(t)
	for i, b := range seeds {
		ours := decodeBoth(t, seeds[0], b)
		if want := i < 6; ours != want {
			t.Errorf("seed %d: decoded by the client's decoder %v, want %v", i, ours, want)
		}
	}
	// Every truncation and every single-byte change: never a panic, never
	// a decoding gosnmp would not make.
	for _, b := range seeds[:6] {
		for n := range len(b) {
			decodeBoth(t, seeds[0], b[:n])
		}
		for i := range b {
			for _, x := range []byte{0x00, 0x01, 0x7F, 0x80, 0x81, 0x84, 0xFF, b[i] + 1, b[i] - 1} {
				c := append([]byte(nil), b...)
				c[i] = x
				decodeBoth(t, seeds[0], c)
			}
		}
	}
}

func FuzzDecodeResponse(f *testing.F) {
	seeds := answerSeeds(f)
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeBoth(t, seeds[0], b)
	})
}

// TestDecodeResponseAllocs: an answer with the names of the last one and
// small numbers costs no allocation.
func TestDecodeResponseAllocs(t *testing.T) {
	p := gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: minID}
	for i := range 12 {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.33.1.2." + string(rune('1'+i%9)) + ".0", Type: gosnmp.Integer, Value: i})
	}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	var names []knownName
	r := response{names: &names}
	if !r.decodeResponse(b, "public") {
		t.Fatal("not decoded")
	}
	if n := testing.AllocsPerRun(100, func() { r.decodeResponse(b, "public") }); n != 0 {
		t.Errorf("%v allocations per answer", n)
	}
}
