package nut

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// statusVar is NUT's status variable: space-separated status words.
const statusVar = "ups.status"

// statusCodes turn the words of ups.status into the code a status field's
// true or enum list names, by field name: the RFC 1628 codes, so a NUT
// UPS decodes like an rfc1628-ups one and the same rules fire.
var statusCodes = map[string]func(words map[string]bool) float64{
	// UPS-MIB upsOutputSource: none(2), normal(3), bypass(4), battery(5).
	"on_battery": func(w map[string]bool) float64 {
		switch {
		case w["OB"]:
			return 5
		case w["BYPASS"]:
			return 4
		case w["OL"]:
			return 3
		case w["OFF"]:
			return 2
		}
		return 1
	},
	// UPS-MIB upsBatteryStatus: batteryNormal(2), batteryLow(3).
	"battery_status": func(w map[string]bool) float64 {
		if w["LB"] {
			return 3
		}
		return 2
	},
	"replace_battery": flag("RB"),
	"overload":        flag("OVER"),
	"charging":        flag("CHRG"),
}

func flag(word string) func(map[string]bool) float64 {
	return func(w map[string]bool) float64 {
		if w[word] {
			return 1
		}
		return 0
	}
}

// StatusValues lists the value names a status field may have.
func StatusValues() []string {
	out := make([]string, 0, len(statusCodes))
	for n := range statusCodes {
		out = append(out, n)
	}
	return out
}

// Decode turns the variables of one LIST VAR answer into the profile's
// values: a variable the answer lacks is a sensor fault naming it, a
// value that does not parse or is out of range spoils only itself.
// invert says whether a device flips a bool value.
func Decode(p *profiles.Profile, vars map[string]string, invert func(string) bool) []collectors.Value {
	out := make([]collectors.Value, 0, len(p.Fields))
	for i := range p.Fields {
		out = append(out, decodeField(&p.Fields[i], vars, invert != nil && invert(p.Fields[i].Name)))
	}
	return out
}

func decodeField(f *profiles.Field, vars map[string]string, invert bool) collectors.Value {
	raw, ok := vars[f.Var]
	if !ok {
		return fault(f, "%s: upsd does not report this variable for the UPS", f.Var)
	}
	switch f.Type {
	case "text":
		v := f.Convert(0, invert, f.Var)
		v.Str = raw
		return v
	case "status":
		words := map[string]bool{}
		for _, w := range strings.Fields(raw) {
			words[w] = true
		}
		if len(words) == 0 || words["WAIT"] {
			return fault(f, "%s %q: the driver has no status yet", f.Var, raw)
		}
		code, known := statusCodes[f.Name]
		if !known {
			return fault(f, "%s: no reading of the status words for a value called %s", f.Var, f.Name)
		}
		return f.Convert(code(words), invert, fmt.Sprintf("%s %q", f.Var, raw))
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		return fault(f, "%s %q: not a number", f.Var, raw)
	}
	return f.Convert(x, invert, f.Var)
}

func fault(f *profiles.Field, format string, args ...any) collectors.Value {
	return collectors.Value{
		Name: f.Name, Unit: f.Unit, Kind: f.Kind(),
		Quality: collectors.SensorFault, Err: fmt.Sprintf(format, args...),
	}
}
