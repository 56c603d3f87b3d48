package snmp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// ParseWalk reads a recorded response in the text form of net-snmp's
// `snmpwalk -On` (one varbind a line: `.1.3.6… = TYPE: value`) into
// varbinds as gosnmp decodes them off the wire. Blank lines and lines
// starting with # are skipped. name names the input in errors.
func ParseWalk(name string, r io.Reader) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		pdu, err := parseWalkLine(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, pdu)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func parseWalkLine(text string) (gosnmp.SnmpPDU, error) {
	oid, rest, ok := strings.Cut(text, " = ")
	if !ok {
		return gosnmp.SnmpPDU{}, fmt.Errorf("%q: want `OID = TYPE: value`", text)
	}
	oid = strings.TrimSpace(oid)
	if err := checkNumericOID(oid); err != nil {
		return gosnmp.SnmpPDU{}, err
	}
	pdu := gosnmp.SnmpPDU{Name: "." + trimDot(oid)}
	switch {
	case strings.HasPrefix(rest, "No Such Object"):
		pdu.Type = gosnmp.NoSuchObject
		return pdu, nil
	case strings.HasPrefix(rest, "No Such Instance"):
		pdu.Type = gosnmp.NoSuchInstance
		return pdu, nil
	case strings.HasPrefix(rest, "No more variables"):
		pdu.Type = gosnmp.EndOfMibView
		return pdu, nil
	case rest == `""`:
		pdu.Type, pdu.Value = gosnmp.OctetString, []byte{}
		return pdu, nil
	}
	typ, val, ok := strings.Cut(rest, ": ")
	if !ok {
		typ, val = strings.TrimSuffix(rest, ":"), ""
	}
	val = strings.TrimSpace(val)
	num := func(bits int) (uint64, error) {
		// "Timeticks: (282000) 0:47:00.00", "INTEGER: batteryLow(3)"
		if i := strings.LastIndexByte(val, '('); i >= 0 {
			if j := strings.IndexByte(val[i:], ')'); j > 0 {
				val = val[i+1 : i+j]
			}
		}
		return strconv.ParseUint(strings.Fields(val + " ")[0], 10, bits)
	}
	var err error
	switch typ {
	case "INTEGER":
		pdu.Type = gosnmp.Integer
		v := val
		if i := strings.LastIndexByte(v, '('); i >= 0 && strings.HasSuffix(v, ")") {
			v = v[i+1 : len(v)-1]
		}
		var n int64
		n, err = strconv.ParseInt(strings.Fields(v + " ")[0], 10, 32)
		pdu.Value = int(n)
	case "Gauge32", "Unsigned32":
		pdu.Type = gosnmp.Gauge32
		var n uint64
		n, err = num(32)
		pdu.Value = uint(n)
	case "Counter32":
		pdu.Type = gosnmp.Counter32
		var n uint64
		n, err = num(32)
		pdu.Value = uint(n)
	case "Counter64":
		pdu.Type = gosnmp.Counter64
		var n uint64
		n, err = num(64)
		pdu.Value = n
	case "Timeticks":
		pdu.Type = gosnmp.TimeTicks
		var n uint64
		n, err = num(32)
		pdu.Value = uint32(n)
	case "STRING":
		pdu.Type = gosnmp.OctetString
		s := val
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = s[1 : len(s)-1]
		}
		pdu.Value = []byte(s)
	case "Hex-STRING":
		pdu.Type = gosnmp.OctetString
		var b []byte
		for _, h := range strings.Fields(val) {
			x, e := strconv.ParseUint(h, 16, 8)
			if e != nil {
				err = e
				break
			}
			b = append(b, byte(x))
		}
		pdu.Value = b
	case "OID":
		pdu.Type, pdu.Value = gosnmp.ObjectIdentifier, val
	case "IpAddress":
		pdu.Type, pdu.Value = gosnmp.IPAddress, val
	default:
		return pdu, fmt.Errorf("%s: unknown type %q", oid, typ)
	}
	if err != nil {
		return pdu, fmt.Errorf("%s: %s value %q: %w", oid, typ, val, err)
	}
	return pdu, nil
}

func checkNumericOID(oid string) error {
	s := trimDot(oid)
	if s == "" {
		return fmt.Errorf("empty OID")
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return fmt.Errorf("%q: want a numeric OID (snmpwalk -On)", oid)
		}
	}
	return nil
}
