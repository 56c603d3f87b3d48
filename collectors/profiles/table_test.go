package profiles

import (
	"strings"
	"testing"
)

func TestRowKey(t *testing.T) {
	for in, want := range map[string]string{
		"Rack 3 top":            "rack_3_top",
		"机柜A":                   "机柜a",
		" 1.1 ":                 "1_1",
		"--Cold/aisle":          "cold_aisle",
		"!!!":                   "",
		strings.Repeat("x", 40): strings.Repeat("x", 32),
	} {
		if got := RowKey(in); got != want {
			t.Errorf("RowKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableValidation(t *testing.T) {
	const head = "name: t\nclass: env\nprotocol: snmp\ntables:\n  - id: a\n    name_column: 1.3.6.1.4.1.9.1.2\n  - id: b\nvalues:\n"
	ok := head + `  - {name: temperature_c, rows: a, oid: 1.3.6.1.4.1.9.1.4, type: integer, fahrenheit: {oid: 1.3.6.1.4.1.9.1.5, code: 2}}
  - {name: temperature_c, rows: b, oid: 1.3.6.1.4.1.9.2.4, type: integer}
`
	p, err := Parse("ok.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Fields[0].Walk || !p.Fields[1].Walk {
		t.Error("table columns are not walked")
	}
	if specs := p.Specs(); len(specs) != 1 || specs[0].Name != "temperature_c" {
		t.Errorf("specs %+v, want temperature_c once", specs)
	}
	for name, tc := range map[string]struct{ values, want string }{
		"unknown table":          {"  - {name: x, rows: c, oid: 1.3.6.1.4.1.9.1.4, type: integer}\n", `"c": no such table`},
		"twice in one table":     {"  - {name: x, rows: a, oid: 1.3.6.1.4.1.9.1.4, type: integer}\n  - {name: x, rows: a, oid: 1.3.6.1.4.1.9.1.6, type: integer}\n", `"x" appears twice`},
		"scalar and row":         {"  - {name: x, oid: 1.3.6.1.4.1.9.1.4.0, type: integer}\n  - {name: x, rows: a, oid: 1.3.6.1.4.1.9.1.6, type: integer}\n", `"x" appears twice`},
		"fahrenheit on a scalar": {"  - {name: x, oid: 1.3.6.1.4.1.9.1.4.0, type: integer, fahrenheit: {oid: 1.3.6.1.4.1.9.1.5, code: 2}}\n", "only a table column"},
	} {
		_, err := Parse(name+".yaml", []byte(head+tc.values))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
}

func TestFromFahrenheit(t *testing.T) {
	f := Field{Name: "temperature_c", Sentinels: []float64{-1}}
	if v := f.FromFahrenheit().Convert(77, false, "x"); v.Num != 25 {
		t.Errorf("77 °F = %v °C, want 25", v.Num)
	}
	if v := f.FromFahrenheit().Convert(-1, false, "x"); v.Quality == 0 {
		t.Error("the sentinel -1 is not a fault in Fahrenheit")
	}
}
