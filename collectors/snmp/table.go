package snmp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// column is one table column a poll walks: a walked field's (field >= 0)
// or a table's name or unit column (field -1, filed in Response.Cols).
type column struct {
	oid   string // without a leading dot
	root  string // oid + "."
	field int
}

func newColumn(oid string, field int) column {
	oid = trimDot(oid)
	return column{oid, oid + ".", field}
}

// tableColumns returns the name and unit columns of p's tables, each
// once.
func tableColumns(p *profiles.Profile) []column {
	var out []column
	seen := map[string]bool{}
	add := func(oid string) {
		oid = trimDot(oid)
		if oid != "" && !seen[oid] {
			seen[oid] = true
			out = append(out, newColumn(oid, -1))
		}
	}
	for _, t := range p.Tables {
		add(t.NameColumn)
	}
	for i := range p.Fields {
		if f := &p.Fields[i]; f.Rows != "" && f.Fahrenheit != nil {
			add(f.Fahrenheit.OID)
		}
	}
	return out
}

// rowIndex returns the index part of a column varbind's OID (the arcs
// after column), or "".
func rowIndex(column, oid string) string {
	rest, ok := strings.CutPrefix(trimDot(oid), trimDot(column)+".")
	if !ok {
		return ""
	}
	return rest
}

// byIndex maps the rows of a walked column by their index.
func byIndex(column string, rows []gosnmp.SnmpPDU) map[string]gosnmp.SnmpPDU {
	m := make(map[string]gosnmp.SnmpPDU, len(rows))
	for _, pdu := range rows {
		if ix := rowIndex(column, pdu.Name); ix != "" {
			m[ix] = pdu
		}
	}
	return m
}

// decodeRows turns the rows of the table columns (fields with Rows) into
// values, named as profiles.Table documents, and appends them to out.
// used holds the names out has already.
func decodeRows(p *profiles.Profile, r *Response, inverted func(string) bool, out []collectors.Value) []collectors.Value {
	used := make(map[string]bool, len(out))
	for _, v := range out {
		used[v.Name] = true
	}
	names := map[string]map[string]string{} // table → index → row key
	for _, t := range p.Tables {
		keys := map[string]string{}
		if t.NameColumn != "" {
			for ix, pdu := range byIndex(t.NameColumn, r.Cols[trimDot(t.NameColumn)]) {
				if b, ok := pdu.Value.([]byte); ok && pdu.Type == gosnmp.OctetString {
					keys[ix] = profiles.RowKey(string(b))
				}
			}
		}
		names[t.ID] = keys
	}
	var bare []string // row value names in profile order, each once
	faults := map[string]collectors.Value{}
	for i := range p.Fields {
		f := &p.Fields[i]
		if f.Rows == "" {
			continue
		}
		if !used[f.Name] && !slices.Contains(bare, f.Name) {
			bare = append(bare, f.Name)
		}
		if r.Errs[i] != "" {
			if _, ok := faults[f.Name]; !ok {
				faults[f.Name] = fault(f, f.Name, r.Errs[i])
			}
			continue
		}
		var units map[string]gosnmp.SnmpPDU
		if f.Fahrenheit != nil {
			units = byIndex(f.Fahrenheit.OID, r.Cols[trimDot(f.Fahrenheit.OID)])
		}
		inv := inverted != nil && inverted(f.Name)
		for _, pdu := range r.Rows[i] {
			ix := rowIndex(f.OID, pdu.Name)
			key := names[f.Rows][ix]
			if key == "" {
				key = profiles.RowKey(ix)
			}
			name := unique(used, f.Name+"_"+key)
			src := f
			if u, ok := units[ix]; ok {
				if code, ok := number(u.Value); ok && int64(code) == f.Fahrenheit.Code {
					src = f.FromFahrenheit()
				}
			}
			v := decodeOne(src, name, trimDot(pdu.Name), pdu, inv)
			if !used[f.Name] {
				used[f.Name] = true
				first := v
				first.Name = f.Name
				out = append(out, first)
			}
			out = append(out, v)
		}
	}
	for _, name := range bare {
		if used[name] {
			continue
		}
		v, ok := faults[name]
		if !ok {
			f, _ := p.Field(name)
			v = fault(f, name, fmt.Sprintf("%s: the table has no rows (no probe or line answers)", columnsOf(p, name)))
		}
		out = append(out, v)
	}
	return out
}

// unique returns name, or name_2, name_3… if used has it, and marks it
// used.
func unique(used map[string]bool, name string) string {
	n := name
	for k := 2; used[n]; k++ {
		n = name + "_" + strconv.Itoa(k)
	}
	used[n] = true
	return n
}

// columnsOf lists the column OIDs of the row values called name.
func columnsOf(p *profiles.Profile, name string) string {
	var oids []string
	for i := range p.Fields {
		if f := &p.Fields[i]; f.Rows != "" && f.Name == name {
			oids = append(oids, trimDot(f.OID))
		}
	}
	return strings.Join(oids, ", ")
}
