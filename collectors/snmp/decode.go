package snmp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Response is what one poll read from a device, aligned with the
// profile's fields: Vars[i] is the varbind answering scalar field i, Rows[i]
// the rows of walked field i (in OID order), and Errs[i] a reason field i
// could not be read at all (a v1 noSuchName, a PDU-level error status).
// A zero PDU (empty Name) in Vars means the agent sent nothing for it.
// Src[i] says which of field i's sources Vars[i] came from (0: the
// field's own OID, k: its fallback k; profiles.Field.Source). Cols holds
// the rows of the tables' name and unit columns, by column OID.
type Response struct {
	Vars []gosnmp.SnmpPDU
	Rows [][]gosnmp.SnmpPDU
	Errs []string
	Src  []int
	Cols map[string][]gosnmp.SnmpPDU
}

// NewResponse returns an empty Response for a profile of n fields.
func NewResponse(n int) Response {
	return Response{Vars: make([]gosnmp.SnmpPDU, n), Rows: make([][]gosnmp.SnmpPDU, n), Errs: make([]string, n), Src: make([]int, n)}
}

// responses holds the Responses of the polls in progress, shared by all
// devices: a poll's Response lives only until its values are decoded.
var responses = sync.Pool{New: func() any { return new(Response) }}

// getResponse returns an empty Response for a profile of n fields from
// responses; putResponse gives it back.
func getResponse(n int) *Response {
	r := responses.Get().(*Response)
	if cap(r.Vars) < n {
		*r = NewResponse(n)
	}
	r.Vars, r.Rows, r.Errs, r.Src = r.Vars[:n], r.Rows[:n], r.Errs[:n], r.Src[:n]
	return r
}

// putResponse empties r, so that the pool holds no answer, and gives it
// back to responses.
func putResponse(r *Response) {
	clear(r.Vars)
	clear(r.Rows)
	clear(r.Errs)
	clear(r.Src)
	r.Cols = nil
	responses.Put(r)
}

// ResponseFromWalk files a flat list of varbinds (an snmpwalk, a recorded
// response) under the profile's fields: scalars by exact OID, walked
// columns by prefix. A scalar with fallbacks is filed from the first of
// its sources the walk holds.
func ResponseFromWalk(p *profiles.Profile, pdus []gosnmp.SnmpPDU) Response {
	r := NewResponse(len(p.Fields))
	by := make(map[string]gosnmp.SnmpPDU, len(pdus))
	for _, pdu := range pdus {
		by[trimDot(pdu.Name)] = pdu
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		oid := trimDot(f.OID)
		if !f.Walk {
			for k := range f.Sources() {
				if pdu, ok := by[trimDot(f.Source(k).OID)]; ok {
					r.Vars[i], r.Src[i] = pdu, k
					break
				}
			}
			continue
		}
		r.Rows[i] = columnOf(oid, pdus)
	}
	for _, c := range tableColumns(p) {
		if rows := columnOf(c.oid, pdus); len(rows) > 0 {
			if r.Cols == nil {
				r.Cols = map[string][]gosnmp.SnmpPDU{}
			}
			r.Cols[c.oid] = rows
		}
	}
	return r
}

// columnOf returns the varbinds of pdus under column oid, in their order.
func columnOf(oid string, pdus []gosnmp.SnmpPDU) []gosnmp.SnmpPDU {
	var rows []gosnmp.SnmpPDU
	for _, pdu := range pdus {
		if strings.HasPrefix(trimDot(pdu.Name), oid+".") {
			rows = append(rows, pdu)
		}
	}
	return rows
}

// Decode turns a Response into values, in profile order; a walked field
// yields one value per row, named per profiles.Field (name, name_l2,
// name_l3, …); the columns of tables (fields with Rows) come last, one
// value per row named per profiles.Table. It is a pure function: every problem with one value (a
// missing object, a wrong type, a sentinel, an out-of-range number) is
// reported on that value as SensorFault with the OID in Value.Err.
// inverted says whether the device flips a bool value.
func Decode(p *profiles.Profile, r *Response, inverted func(name string) bool) []collectors.Value {
	out := make([]collectors.Value, 0, valueCount(p, r))
	for i := range p.Fields {
		f := &p.Fields[i]
		if f.Rows != "" {
			continue
		}
		inv := inverted != nil && inverted(f.Name)
		if i < len(r.Errs) && r.Errs[i] != "" {
			out = append(out, fault(f, f.Name, r.Errs[i]))
			continue
		}
		if !f.Walk {
			var pdu gosnmp.SnmpPDU
			if i < len(r.Vars) {
				pdu = r.Vars[i]
			}
			src := f
			if i < len(r.Src) {
				src = f.Source(r.Src[i])
			}
			out = append(out, decodeOne(src, f.Name, trimDot(src.OID), pdu, inv))
			continue
		}
		var rows []gosnmp.SnmpPDU
		if i < len(r.Rows) {
			rows = r.Rows[i]
		}
		if len(rows) == 0 {
			out = append(out, fault(f, f.Name, fmt.Sprintf("%s: table column has no rows", trimDot(f.OID))))
			continue
		}
		for j, pdu := range rows {
			out = append(out, decodeOne(f, RowName(f.Name, j+1), trimDot(pdu.Name), pdu, inv))
		}
	}
	if len(p.Tables) > 0 {
		out = decodeRows(p, r, inverted, out)
	}
	return out
}

// valueCount is how many values Decode makes of r, or a guess when p has
// tables: the SampleSet keeps the array, so it is sized to fit.
func valueCount(p *profiles.Profile, r *Response) int {
	n := len(p.Fields)
	for i := range p.Fields {
		if p.Fields[i].Walk && i < len(r.Rows) && len(r.Rows[i]) > 1 {
			n += len(r.Rows[i]) - 1
		}
	}
	if len(p.Tables) > 0 {
		n += 4
	}
	return n
}

// RowName names row n (from 1) of a walked field: name, name_l2, name_l3.
func RowName(name string, n int) string {
	if n <= 1 {
		return name
	}
	return name + "_l" + strconv.Itoa(n)
}

func fault(f *profiles.Field, name, why string) collectors.Value {
	return collectors.Value{Name: name, Unit: f.Unit, Kind: f.Kind(), Quality: collectors.SensorFault, Err: why}
}

// asnName is the profile's name of an SNMP type (a switch: it runs for
// every value of every poll).
func asnName(t gosnmp.Asn1BER) (string, bool) {
	switch t {
	case gosnmp.Integer:
		return "integer", true
	case gosnmp.Uinteger32, gosnmp.Gauge32: // Unsigned32 shares Gauge32's tag in SMIv2
		return "gauge32", true
	case gosnmp.Counter32:
		return "counter32", true
	case gosnmp.Counter64:
		return "counter64", true
	case gosnmp.TimeTicks:
		return "timeticks", true
	case gosnmp.OctetString:
		return "octetstring", true
	}
	return "", false
}

// compatible reports whether a value the agent sent as got may be read as
// the profile's type want. INTEGER and Gauge32/Unsigned32 are one family:
// agents disagree with their MIB about them (PowerNet-MIB objects declared
// INTEGER arrive as Gauge32 on some firmware) and the number means the
// same. Counters, TimeTicks and strings must match exactly, since reading
// them as another type would change their meaning.
func compatible(want, got string) bool {
	if want == got {
		return true
	}
	return (want == "integer" || want == "gauge32") && (got == "integer" || got == "gauge32")
}

func decodeOne(f *profiles.Field, name, oid string, pdu gosnmp.SnmpPDU, invert bool) collectors.Value {
	switch pdu.Type {
	case gosnmp.NoSuchObject:
		return fault(f, name, oid+": noSuchObject (the agent does not implement this object)")
	case gosnmp.NoSuchInstance:
		return fault(f, name, oid+": noSuchInstance (no such row or instance on this agent)")
	case gosnmp.EndOfMibView:
		return fault(f, name, oid+": endOfMibView")
	}
	if pdu.Name == "" {
		return fault(f, name, oid+": no value in the response")
	}
	got, ok := asnName(pdu.Type)
	if !ok {
		return fault(f, name, fmt.Sprintf("%s: wrong type %s, profile expects %s", oid, pdu.Type, f.Type))
	}
	if got == "octetstring" {
		b, _ := pdu.Value.([]byte)
		if f.Kind() == collectors.Text {
			return collectors.Value{Name: name, Unit: f.Unit, Kind: collectors.Text, Str: string(b)}
		}
		if f.Type != "octetstring" {
			return fault(f, name, fmt.Sprintf("%s: wrong type octetstring, profile expects %s", oid, f.Type))
		}
		// An octetstring field with enum or true codes: the code sent as
		// text ("1"), as some probes do.
		x, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			return fault(f, name, fmt.Sprintf("%s: %q is not a number", oid, b))
		}
		v := f.Convert(x, invert, oid)
		v.Name = name
		return v
	}
	if !compatible(f.Type, got) {
		return fault(f, name, fmt.Sprintf("%s: wrong type %s, profile expects %s", oid, got, f.Type))
	}
	raw, ok := number(pdu.Value)
	if !ok {
		return fault(f, name, fmt.Sprintf("%s: %s value %v is not a number", oid, got, pdu.Value))
	}
	v := f.Convert(raw, invert, oid)
	v.Name = name
	return v
}

// number returns the numeric value of a decoded varbind.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case int:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	}
	return 0, false
}

func trimDot(oid string) string { return strings.TrimPrefix(oid, ".") }
