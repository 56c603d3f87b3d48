package profiles

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Table is an SNMP table whose rows are probes or phases: the values
// whose Rows names the table are its columns, walked each poll, one value
// per row that the agent has at that moment. A row is identified by its
// index (the OID arcs after the column), and named by the NameColumn
// text of that index when the table has one (iemStatusProbeName), else by
// the index itself.
//
// Naming (SampleSet values are flat names, one InfluxDB field each, and
// rules look values up by exact name): the value of row r of column
// temperature_c is temperature_c_<r>, <r> being RowKey of the row's name
// ("Rack 3 top" → temperature_c_rack_3_top, "机柜A" → temperature_c_机柜a)
// or of its index ("1.1" → temperature_c_1_1). The first row read under
// a value name (profile order, then row order) is also given under the
// bare name (temperature_c), so that the rules, which watch temperature_c,
// see one probe of every device; a name that no row answers is a sensor
// fault under the bare name.
type Table struct {
	// ID is how values refer to the table (rows: iem).
	ID string `yaml:"id"`
	// NameColumn is the OID of the column that names each row (a
	// DisplayString column such as iemStatusProbeName); optional.
	NameColumn string `yaml:"name_column"`
}

// UnitColumn says that a temperature column is in degrees Fahrenheit on
// the rows where another column of the same table (the card's unit
// setting, iemStatusProbeTempUnits) has the code Code: on those rows the
// value is converted to Celsius (Field.FromFahrenheit) before its range
// check; sentinels still match the raw number.
type UnitColumn struct {
	OID  string `yaml:"oid"`
	Code int64  `yaml:"code"`
}

// Table returns the table called id.
func (p *Profile) Table(id string) (*Table, bool) {
	for i := range p.Tables {
		if p.Tables[i].ID == id {
			return &p.Tables[i], true
		}
	}
	return nil, false
}

// sharedRowName reports whether field i may share its name with an
// earlier field: both read rows of different tables (the temperature of
// the uio table and of the iem table are both temperature_c).
func (p *Profile) sharedRowName(i int) bool {
	f := &p.Fields[i]
	if f.Rows == "" {
		return false
	}
	shared := false
	for j := range i {
		g := &p.Fields[j]
		if g.Name != f.Name {
			continue
		}
		if g.Rows == "" || g.Rows == f.Rows {
			return false
		}
		shared = true
	}
	return shared
}

// validateTables checks the tables and the values reading them. A row
// value is walked (Walk is set), so that pollers and simulators that walk
// columns read it.
func (p *Profile) validateTables(errs *yamlconf.Errors) {
	ids := map[string]bool{}
	for k, t := range p.Tables {
		at := fmt.Sprintf("tables[%d]", k)
		if p.Protocol != "snmp" {
			errs.Addf(at, "tables are for SNMP profiles")
		}
		if t.ID == "" {
			errs.Addf(at+".id", "missing")
		} else if ids[t.ID] {
			errs.Addf(at+".id", "%q appears twice", t.ID)
		}
		ids[t.ID] = true
		if t.NameColumn != "" {
			if err := checkOID(t.NameColumn); err != nil {
				errs.Addf(at+".name_column", "%v", err)
			}
		}
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		at := fmt.Sprintf("values[%d]", i)
		if f.Rows == "" {
			if f.Fahrenheit != nil {
				errs.Addf(at+".fahrenheit", "only a table column (rows:) takes a unit column")
			}
			continue
		}
		if !ids[f.Rows] {
			errs.Addf(at+".rows", "%q: no such table in tables:", f.Rows)
		}
		if len(f.Fallback) > 0 {
			errs.Addf(at+".fallback", "a table column takes no fallback")
		}
		f.Walk = true
		if f.Fahrenheit != nil {
			if err := checkOID(f.Fahrenheit.OID); err != nil {
				errs.Addf(at+".fahrenheit.oid", "%v", err)
			}
		}
	}
}

// RowKey turns a row's name or index into the part of a value name that
// follows the column's name: lower case, letters (any script) and digits
// kept, every other run of characters one underscore, at most 32 runes.
// It returns "" when nothing is left.
func RowKey(s string) string {
	var b strings.Builder
	n, sep := 0, false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if n == 32 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
				n++
			}
			b.WriteRune(r)
			n++
			sep = false
			continue
		}
		sep = true
	}
	return b.String()
}

// FromFahrenheit returns the field reading degrees Fahrenheit into its
// Celsius value: scale and offset folded with °C = (°F - 32) × 5/9.
func (f *Field) FromFahrenheit() *Field {
	c := *f
	scale := f.Scale
	if scale == 0 {
		scale = 1
	}
	c.Scale, c.Offset = scale*5/9, (f.Offset-32)*5/9
	return &c
}
