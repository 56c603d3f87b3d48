package snmp

import (
	"bytes"
	"math"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// The decoding of the answers a poll expects: a v1/v2c GetResponse whose
// values are of the types profiles read (numbers, strings, the v2
// exceptions). It is a strict subset of gosnmp's decoder: a datagram it
// does not take in full (another PDU, a value of another type, an
// encoding it does not read) goes to gosnmp, so whatever it accepts
// decodes as gosnmp would decode it (FuzzDecodeResponse checks that). It
// exists because gosnmp's decoder allocates 12 times per varbind (the
// OID's string, boxed fields, its debug log's arguments) and took 40% of
// a poll's CPU: this one fills a packet the client keeps, takes the
// varbinds' names from the last answer to the same request, and
// allocates only for an octet string or a number that does not fit an
// interface by itself.

// response is where the client decodes its answers.
type response struct {
	pkt gosnmp.SnmpPacket // the last answer decoded by decodeResponse
	// names are the names read in the last answer to the request
	// answered, by varbind position (request.names), or nil
	names *[]knownName
}

// knownName is an OID as encoded and as gosnmp writes it (".1.3.6…").
type knownName struct {
	enc  string
	name string
}

// decodeResponse decodes b into r.pkt if it is a v1/v2c GetResponse with
// community that it reads in full, and returns false otherwise. r.pkt is
// valid until the next call.
func (r *response) decodeResponse(b []byte, community string) bool {
	msg, rest, ok := berTLV(b, 0x30)
	if !ok || len(rest) != 0 {
		return false
	}
	field, msg, ok := berTLV(msg, 0x02)
	if !ok {
		return false
	}
	version, ok := berInt(field)
	if !ok || (version != int(gosnmp.Version1) && version != int(gosnmp.Version2c)) {
		return false
	}
	if field, msg, ok = berTLV(msg, 0x04); !ok || string(field) != community {
		return false
	}
	pdu, rest, ok := berTLV(msg, byte(gosnmp.GetResponse))
	if !ok || len(rest) != 0 {
		return false
	}
	var head [3]int // request-id, error-status, error-index
	for i := range head {
		if field, pdu, ok = berTLV(pdu, 0x02); !ok {
			return false
		}
		if head[i], ok = berInt(field); !ok {
			return false
		}
	}
	vbl, rest, ok := berTLV(pdu, 0x30)
	if !ok || len(rest) != 0 {
		return false
	}
	r.pkt = gosnmp.SnmpPacket{
		Version: gosnmp.SnmpVersion(version), Community: community, PDUType: gosnmp.GetResponse,
		RequestID: uint32(head[0]), Error: gosnmp.SNMPError(head[1]), ErrorIndex: uint8(head[2]),
		Variables: r.pkt.Variables[:0],
	}
	for k := 0; len(vbl) > 0; k++ {
		var vb []byte
		if vb, vbl, ok = berTLV(vbl, 0x30); !ok {
			return false
		}
		pdu, ok := r.varbind(k, vb)
		if !ok {
			return false
		}
		r.pkt.Variables = append(r.pkt.Variables, pdu)
	}
	return true
}

// varbind decodes the k-th varbind of an answer, vb its content.
func (r *response) varbind(k int, vb []byte) (gosnmp.SnmpPDU, bool) {
	oid, value, ok := berTLV(vb, byte(gosnmp.ObjectIdentifier))
	if !ok || len(value) == 0 {
		return gosnmp.SnmpPDU{}, false
	}
	content, rest, ok := berTLV(value, value[0]) // of any type
	if !ok || len(rest) != 0 {
		return gosnmp.SnmpPDU{}, false
	}
	pdu := gosnmp.SnmpPDU{Type: gosnmp.Asn1BER(value[0])}
	if pdu.Value, ok = berValue(pdu.Type, content); !ok {
		return gosnmp.SnmpPDU{}, false
	}
	if pdu.Name, ok = r.name(k, oid); !ok {
		return gosnmp.SnmpPDU{}, false
	}
	return pdu, true
}

// name returns the name of the OID enc, the k-th of an answer: the one
// the last answer had there when it is the same OID (a device answers
// the same OIDs poll after poll), a new one otherwise.
func (r *response) name(k int, enc []byte) (string, bool) {
	var known []knownName
	if r.names != nil {
		known = *r.names
	}
	if k < len(known) && known[k].enc == string(enc) {
		return known[k].name, true
	}
	name, ok := formatOID(enc)
	if !ok || r.names == nil {
		return name, ok
	}
	if k < len(known) {
		known[k] = knownName{string(enc), name}
	} else if k == len(known) && k < maxKnownNames {
		*r.names = append(known, knownName{string(enc), name})
	}
	return name, true
}

// maxKnownNames bounds the names kept for one request: the GETBULK of a
// walk asks for columns x max-repetitions.
const maxKnownNames = 256

// berValue decodes the content of a value of type t as gosnmp does, for
// the types profiles read; false for any other type or a content gosnmp
// would not decode to a number.
func berValue(t gosnmp.Asn1BER, b []byte) (any, bool) {
	switch t {
	case gosnmp.Integer:
		return berInt(b)
	case gosnmp.Uinteger32:
		n, ok := berInt(b)
		return uint32(n), ok
	case gosnmp.Counter32, gosnmp.Gauge32:
		n, ok := berUint(b)
		return uint(n), ok
	case gosnmp.TimeTicks:
		n, ok := berUint(b)
		return uint32(n), ok
	case gosnmp.Counter64:
		return berUint(b)
	case gosnmp.OctetString:
		// b lies in the read buffer, which the next read overwrites.
		return bytes.Clone(b), true
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return nil, true
	}
	return nil, false
}

// berTLV reads one BER element with the given tag at b's start: its
// content and what follows it.
func berTLV(b []byte, tag byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, hdr, ok := berHeader(b)
	if !ok || n > len(b)-hdr {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// berInt reads a signed big-endian INTEGER of 1 to 8 bytes.
func berInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var n int64
	for _, x := range b {
		n = n<<8 | int64(x)
	}
	shift := 64 - 8*uint(len(b))
	return int(n << shift >> shift), true
}

// berUint reads an unsigned big-endian number of up to 8 bytes (9 with a
// leading zero); no bytes read as 0, as gosnmp reads them.
func berUint(b []byte) (uint64, bool) {
	if len(b) > 9 || (len(b) > 8 && b[0] != 0) {
		return 0, false
	}
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return n, true
}

// formatOID writes an encoded OBJECT IDENTIFIER as gosnmp does:
// ".1.3.6.1…", ".0.0" when empty.
func formatOID(enc []byte) (string, bool) {
	if len(enc) == 0 {
		return ".0.0", true
	}
	out := make([]byte, 0, 4*len(enc)+1)
	for i, first := 0, true; i < len(enc); first = false {
		var v uint64
		for {
			if i == len(enc) {
				return "", false // truncated arc
			}
			x := enc[i]
			i++
			if v = v<<7 | uint64(x&0x7F); v > math.MaxUint32 {
				return "", false
			}
			if x&0x80 == 0 {
				break
			}
		}
		out = append(out, '.')
		switch {
		case !first:
			out = strconv.AppendUint(out, v, 10)
		case v < 80:
			out = strconv.AppendUint(out, v/40, 10)
			out = append(out, '.')
			out = strconv.AppendUint(out, v%40, 10)
		default:
			out = append(out, '2', '.')
			out = strconv.AppendUint(out, v-80, 10)
		}
	}
	return string(out), true
}
