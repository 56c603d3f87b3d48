// Package profiles describes what to read from a kind of device and how to
// decode it, as YAML data files: OIDs or registers, types, byte/word order,
// scale and offset, enumerations, sentinels that mean "sensor
// disconnected", and valid ranges. Built-in profiles are embedded; a user
// adds one by dropping a file into the profile directory, without
// recompiling.
//
// # Display names
//
// Every value names itself for people in Chinese and English:
//
//	values:
//	  - name: battery_temp_c
//	    title: {zh: 电池温度, en: battery temperature}
//
// Alarm texts (rules), `roomwatch alarms` and the alarm messages'
// values[*].title show the title, never the identifier: a person reads
// 传感器故障：电池温度读数无效, not battery_temp_c. A built-in profile gives
// every title in its file (a test checks it). A user profile may leave
// title out, or one of its languages: the value's canonical name is then
// looked up in collectors.ValueTitle's table of common names
// (temperature_c, runtime_min, load_pct, …), else turned into words
// (inlet_temp_c → 进风温度 / inlet temperature). A new canonical name
// shared by several profiles belongs in that table too; a name one
// profile alone uses just gets its title: in the profile. Rows of a walked
// column are named by the column's title and the row (输入电压 L2);
// Set.ValueTitle answers for a device's profile and is what the rules
// engine is given (rules.WithValueTitles).
package profiles

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Profile is one device kind.
type Profile struct {
	// Name is how devices refer to the profile (rfc1628-ups).
	Name string `yaml:"name"`
	// Class groups profiles for storage and rules: ups, env, di.
	Class string `yaml:"class"`
	// Protocol is snmp, modbus or nut.
	Protocol    string `yaml:"protocol"`
	Description string `yaml:"description"`
	// Source says where the OIDs or registers come from (MIB, manual).
	Source string `yaml:"source"`

	// SysObjectID lists the sysObjectID values (SNMPv2-MIB
	// 1.3.6.1.2.1.1.2.0) of the agents the profile is for, so that
	// `profile: auto` and `roomwatch discover` can pick it (SNMP only).
	// "1.3.6.1.4.1.318.1.3.2.12" matches that value exactly;
	// "1.3.6.1.4.1.318.1.3.2.*" matches it and every OID under it. When
	// several profiles match, the longest pattern wins. Each pattern
	// comes from the vendor's MIB (its enterprise number and product
	// branch), with a comment saying where.
	SysObjectID []string `yaml:"sysobjectid"`
	// DetectOID is a scalar object (instance included) that every agent
	// of this kind answers, typically the model or manufacturer string.
	// Detection GETs it to confirm a sysObjectID match; a profile
	// without sysobjectid patterns (a standard MIB such as RFC 1628,
	// served by agents of any vendor) is picked by it alone.
	DetectOID string `yaml:"detect_oid"`

	Fields []Field `yaml:"values"`
	// Tables are the SNMP tables whose rows the values with Rows read
	// (table.go).
	Tables []Table `yaml:"tables"`

	// File is where the profile was loaded from.
	File string `yaml:"-"`
}

// Field is one value to read and decode.
type Field struct {
	// Name is the canonical value name, unit included (temperature_c).
	Name string `yaml:"name"`
	// Title is the value's name for people in Chinese and English
	// (title: {zh: 温度, en: temperature}), shown in alarm texts, the
	// patrol screen and tables. Left out (or one language left out), it is
	// taken from collectors.ValueTitle: a built-in table of the common
	// value names, else the name's words.
	Title collectors.Title `yaml:"title"`
	Unit  string           `yaml:"unit"`
	// Help says what the value is, for the person reading a probe.
	Help string `yaml:"help"`

	// SNMP: numeric OID, without a leading dot.
	OID string `yaml:"oid"`
	// Fallback lists other objects for the same value, tried in order
	// when the one in use does not answer (noSuchObject,
	// noSuchInstance, noSuchName): an older firmware's object with its
	// own type and scale. The poller remembers per device which source
	// answered, and looks again (from OID on) when it stops answering.
	// SNMP scalars and Modbus values.
	Fallback []Source `yaml:"fallback"`
	// Walk reads a table column (GETBULK) instead of one scalar; row i
	// (from 1) is named Name for row 1 and Name_l<i> for the others
	// (input_voltage_v, input_voltage_v_l2, input_voltage_v_l3).
	Walk bool `yaml:"walk"`
	// Rows and Fahrenheit: a column of one of the profile's Tables,
	// one value per row named by the row (table.go).
	Rows       string      `yaml:"rows"`
	Fahrenheit *UnitColumn `yaml:"fahrenheit"`

	// NUT: the upsd variable (battery.charge, ups.status).
	Var string `yaml:"var"`

	// Modbus: table is coil (FC1), discrete (FC2), holding (FC3) or
	// input (FC4); Address is the zero-based register or bit address.
	Table   string `yaml:"table"`
	Address uint16 `yaml:"address"`
	// Order is the byte/word order of 32-bit values: ABCD (big endian),
	// CDAB (word swap), BADC (byte swap), DCBA (little endian).
	Order string `yaml:"order"`
	// Bit, when set, takes one bit (0 = least significant) of a 16-bit
	// register as a bool.
	Bit *int `yaml:"bit"`

	// Type is the wire type. SNMP: integer, gauge32, counter32,
	// counter64, timeticks, octetstring. Modbus: int16, uint16, int32,
	// uint32, float32, bool (coils and discrete inputs). NUT: number,
	// text, or status (ups.status words read as the code the field's
	// true or enum list names; collectors/nut says which).
	Type string `yaml:"type"`

	// Value = raw*Scale + Offset (Scale 0 means 1).
	Scale  float64 `yaml:"scale"`
	Offset float64 `yaml:"offset"`
	// Sentinels are raw values that mean "sensor disconnected".
	Sentinels []float64 `yaml:"sentinels"`
	// Min and Max bound a valid scaled value; outside is a sensor fault.
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
	// Enum maps raw codes to labels (battery_status: 2: normal).
	Enum map[int64]string `yaml:"enum"`
	// True lists raw codes that mean true, making a bool of an enum
	// (on_battery: upsOutputSource 5 = battery).
	True []int64 `yaml:"true"`
	// Invert flips a bool (a normally-closed contact); a device may
	// flip it again with its own invert list.
	Invert bool `yaml:"invert"`
	// Sim is the value the simulator serves by default, as text
	// ("230", "true", "normal").
	Sim string `yaml:"sim"`
}

// Source is another object a value can be read from: its OID, wire type
// and scale (the value's enum, range and sentinels still apply).
type Source struct {
	OID    string  `yaml:"oid"`
	Type   string  `yaml:"type"`
	Scale  float64 `yaml:"scale"`
	Offset float64 `yaml:"offset"`

	// Modbus: another register or bit, with its own table, address,
	// word order and bit (fallback.go).
	Table   string `yaml:"table"`
	Address uint16 `yaml:"address"`
	Order   string `yaml:"order"`
	Bit     *int   `yaml:"bit"`
}

// Sources is how many objects the value can be read from: 1 + fallbacks.
func (f *Field) Sources() int { return 1 + len(f.Fallback) }

// Source returns the field as read from source k: k = 0 is the field
// itself, k >= 1 the field with Fallback[k-1]'s OID, type and scale.
func (f *Field) Source(k int) *Field {
	if k <= 0 || k > len(f.Fallback) {
		return f
	}
	c := *f
	fb := f.Fallback[k-1]
	c.OID, c.Type, c.Scale, c.Offset, c.Fallback = fb.OID, fb.Type, fb.Scale, fb.Offset, nil
	c.Table, c.Address, c.Order, c.Bit = fb.Table, fb.Address, fb.Order, fb.Bit
	return &c
}

// Kind is the kind of value the field decodes to.
func (f *Field) Kind() collectors.Kind {
	switch {
	case len(f.True) > 0 || f.Bit != nil || f.Type == "bool":
		return collectors.Bool
	case len(f.Enum) > 0:
		return collectors.Enum
	case f.Type == "octetstring" || f.Type == "text":
		return collectors.Text
	}
	return collectors.Number
}

// Spec returns the field's name, unit and kind.
func (f *Field) Spec() collectors.ValueSpec {
	return collectors.ValueSpec{Name: f.Name, Unit: f.Unit, Kind: f.Kind()}
}

// Convert turns a raw number read from the device into a Value: sentinel
// check, scale and offset, range check, enum or bool mapping. invert
// flips a bool on top of the profile's own Invert. where names the OID or
// register for error texts.
func (f *Field) Convert(raw float64, invert bool, where string) collectors.Value {
	v := collectors.Value{Name: f.Name, Unit: f.Unit, Kind: f.Kind(), Num: raw}
	for _, s := range f.Sentinels {
		if raw == s {
			v.Quality = collectors.SensorFault
			v.Err = fmt.Sprintf("%s: sensor disconnected (sentinel %s)", where, fmtRaw(raw))
			return v
		}
	}
	switch v.Kind {
	case collectors.Bool:
		on := raw != 0
		if len(f.True) > 0 {
			on = false
			for _, t := range f.True {
				if float64(t) == raw {
					on = true
				}
			}
		}
		if f.Invert != invert {
			on = !on
		}
		v.Num = 0
		if on {
			v.Num = 1
		}
		return v
	case collectors.Enum:
		label, ok := f.Enum[int64(raw)]
		if !ok {
			v.Quality = collectors.SensorFault
			v.Err = fmt.Sprintf("%s: value %s is not one of the profile's codes", where, fmtRaw(raw))
			return v
		}
		v.Str = label
		return v
	}
	scale := f.Scale
	if scale == 0 {
		scale = 1
	}
	v.Num = raw*scale + f.Offset
	if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) ||
		(f.Min != nil && v.Num < *f.Min) || (f.Max != nil && v.Num > *f.Max) {
		v.Quality = collectors.SensorFault
		v.Err = fmt.Sprintf("%s: value %g %s out of range %s", where, v.Num, f.Unit, f.rangeText())
		return v
	}
	return v
}

func (f *Field) rangeText() string {
	lo, hi := "-inf", "+inf"
	if f.Min != nil {
		lo = fmt.Sprint(*f.Min)
	}
	if f.Max != nil {
		hi = fmt.Sprint(*f.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

func fmtRaw(raw float64) string {
	if raw == math.Trunc(raw) && raw >= 0 && raw <= math.MaxUint32 {
		return fmt.Sprintf("%g (0x%X)", raw, uint64(raw))
	}
	return fmt.Sprint(raw)
}

// Raw is the inverse of Convert: the raw number a device sends for the
// decoded value v (float64, bool or enum label as string). Simulators use it.
func (f *Field) Raw(v any, invert bool) (float64, error) {
	switch x := v.(type) {
	case bool:
		if f.Invert != invert {
			x = !x
		}
		if len(f.True) > 0 {
			if x {
				return float64(f.True[0]), nil
			}
			// The first code not meaning true: UPS-MIB upsOutputSource
			// normal(3), PowerNet upsBasicOutputStatus onLine(2).
			for _, c := range []int64{3, 2, 1, 0} {
				if !slices.Contains(f.True, c) {
					return float64(c), nil
				}
			}
		}
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		for code, label := range f.Enum {
			if label == x {
				return float64(code), nil
			}
		}
		return 0, fmt.Errorf("value %s: %q is not one of the profile's labels", f.Name, x)
	case float64:
		scale := f.Scale
		if scale == 0 {
			scale = 1
		}
		return math.Round((x-f.Offset)/scale*1e6) / 1e6, nil
	}
	return 0, fmt.Errorf("value %s: cannot encode %T", f.Name, v)
}

// Parse reads text typed by a person ("28.5", "true", "low") as a value
// of the field's kind.
func (f *Field) Parse(text string) (any, error) {
	switch f.Kind() {
	case collectors.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("value %s: %q is not true or false", f.Name, text)
		}
		return b, nil
	case collectors.Enum, collectors.Text:
		return text, nil
	}
	x, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, fmt.Errorf("value %s: %q is not a number", f.Name, text)
	}
	return x, nil
}

// fillTitle completes the field's title from collectors.ValueTitle.
func (f *Field) fillTitle() {
	if f.Title.Zh != "" && f.Title.En != "" {
		return
	}
	t := collectors.ValueTitle(f.Name)
	if f.Title.Zh == "" {
		f.Title.Zh = t.Zh
	}
	if f.Title.En == "" {
		f.Title.En = t.En
	}
}

// ValueTitle returns the display name of value name of a device with
// profile: the profile field's title (a walked column's row adds its
// suffix: 输入电压 L2), else collectors.ValueTitle. The rules engine takes
// it for alarm texts (rules.WithValueTitles).
func (s Set) ValueTitle(profile, name string) collectors.Title {
	if p := s[profile]; p != nil {
		if f, ok := p.Field(name); ok {
			return f.Title
		}
		best := -1
		for i := range p.Fields {
			f := &p.Fields[i]
			if strings.HasPrefix(name, f.Name+"_") && (best < 0 || len(f.Name) > len(p.Fields[best].Name)) {
				best = i
			}
		}
		if best >= 0 {
			f := &p.Fields[best]
			return collectors.RowTitle(f.Title, strings.TrimPrefix(name, f.Name+"_"))
		}
	}
	return collectors.ValueTitle(name)
}

// Specs lists the values the profile yields (walked columns once, as their
// first row; table columns once per name, as the bare name).
func (p *Profile) Specs() []collectors.ValueSpec {
	out := make([]collectors.ValueSpec, 0, len(p.Fields))
	for i := range p.Fields {
		if p.Fields[i].Rows != "" && p.sharedRowName(i) {
			continue
		}
		out = append(out, p.Fields[i].Spec())
	}
	return out
}

// Field returns the field called name.
func (p *Profile) Field(name string) (*Field, bool) {
	for i := range p.Fields {
		if p.Fields[i].Name == name {
			return &p.Fields[i], true
		}
	}
	return nil, false
}

//go:embed builtin/*.yaml
var builtin embed.FS

// Set is a collection of profiles by name.
type Set map[string]*Profile

// Builtin returns the embedded profiles. They are parsed once; each
// call returns a new Set of the same (read-only) profiles.
func Builtin() (Set, error) {
	set, err := builtinOnce()
	return maps.Clone(set), err
}

var builtinOnce = sync.OnceValues(func() (Set, error) {
	set := Set{}
	err := fs.WalkDir(builtin, "builtin", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := builtin.ReadFile(path)
		if err != nil {
			return err
		}
		return set.add(path, data)
	})
	return set, err
})

// Load returns the built-in profiles plus every *.yaml in dir (if dir is
// not empty); a user profile with a built-in's name replaces it. A dir
// that does not exist or is not a directory is an error (a mistyped
// profiles_dir would otherwise leave every user profile out); the
// problems of all user profiles are reported together.
func Load(dir string) (Set, error) {
	set, err := Builtin()
	if err != nil || dir == "" {
		return set, err
	}
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("directory %s does not exist (create it, or leave profiles_dir out to use the built-in profiles only)", dir)
		}
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (profiles_dir names a directory of *.yaml profiles)", dir)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	paths = append(paths, more...)
	sort.Strings(paths)
	user := Set{}
	errs := yamlconf.Errors{File: &yamlconf.File{Name: dir}}
	for _, path := range paths {
		data, err := yamlconf.ReadFile(path)
		if err != nil {
			errs.Add("", err)
			continue
		}
		errs.Add("", user.add(path, data))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	for k, v := range user {
		set[k] = v
	}
	return set, nil
}

// Parse decodes and validates one profile file.
func Parse(file string, data []byte) (*Profile, error) {
	p := &Profile{}
	f, err := yamlconf.Decode(file, data, p)
	if err != nil {
		return nil, err
	}
	p.File = file
	if err := p.validate(f); err != nil {
		return nil, err
	}
	return p, nil
}

func (s Set) add(file string, data []byte) error {
	p, err := Parse(file, data)
	if err != nil {
		return err
	}
	if old, ok := s[p.Name]; ok {
		return yamlconf.List{{File: file, Path: "name", Msg: fmt.Sprintf("profile %q is already defined in %s", p.Name, old.File)}}
	}
	s[p.Name] = p
	return nil
}

// Names returns the profile names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	snmpTypes   = map[string]bool{"integer": true, "gauge32": true, "counter32": true, "counter64": true, "timeticks": true, "octetstring": true}
	modbusTypes = map[string]int{"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "bool": 0}
	nutTypes    = map[string]bool{"number": true, "text": true, "status": true}
	tables      = map[string]bool{"coil": true, "discrete": true, "holding": true, "input": true}
	orders      = map[string]bool{"ABCD": true, "CDAB": true, "BADC": true, "DCBA": true}
)

// Registers returns how many 16-bit registers a Modbus field spans
// (0 for bit tables).
func (f *Field) Registers() int { return modbusTypes[f.Type] }

func (p *Profile) validate(file *yamlconf.File) error {
	errs := yamlconf.Errors{File: file}
	if p.Name == "" {
		errs.Addf("name", "missing")
	}
	if p.Class == "" {
		errs.Addf("class", "missing (ups, env, di…)")
	}
	if p.Protocol != "snmp" && p.Protocol != "modbus" && p.Protocol != "nut" {
		errs.Addf("protocol", "%q: want snmp, modbus or nut", p.Protocol)
	}
	if len(p.Fields) == 0 {
		errs.Addf("values", "a profile needs at least one value")
	}
	if p.Protocol != "snmp" && (len(p.SysObjectID) > 0 || p.DetectOID != "") {
		errs.Addf("sysobjectid", "sysobjectid and detect_oid are for SNMP profiles")
	}
	for i, pat := range p.SysObjectID {
		if err := checkOID(strings.TrimSuffix(pat, ".*")); err != nil {
			errs.Addf(fmt.Sprintf("sysobjectid[%d]", i), "%v (a pattern is an OID, or an OID followed by .* for its subtree)", err)
		}
	}
	if p.DetectOID != "" {
		if err := checkOID(p.DetectOID); err != nil {
			errs.Addf("detect_oid", "%v", err)
		}
	}
	seen := map[string]bool{}
	for i := range p.Fields {
		f := &p.Fields[i]
		at := fmt.Sprintf("values[%d]", i)
		if f.Name == "" {
			errs.Addf(at+".name", "missing")
		} else if seen[f.Name] && !p.sharedRowName(i) {
			errs.Addf(at+".name", "%q appears twice", f.Name)
		}
		seen[f.Name] = true
		f.fillTitle()
		if len(f.Enum) > 0 && len(f.True) > 0 {
			errs.Addf(at+".enum", "a value takes enum or true, not both")
		}
		switch p.Protocol {
		case "snmp":
			if !snmpTypes[f.Type] {
				errs.Addf(at+".type", "%q: want integer, gauge32, counter32, counter64, timeticks or octetstring", f.Type)
			}
			if err := checkOID(f.OID); err != nil {
				errs.Addf(at+".oid", "%v", err)
			}
			if f.Table != "" || f.Order != "" || f.Bit != nil {
				errs.Addf(at, "table, order and bit are for Modbus profiles")
			}
			if len(f.Fallback) > 0 && f.Walk {
				errs.Addf(at+".fallback", "a walked table column takes no fallback")
			}
			for k, fb := range f.Fallback {
				fat := fmt.Sprintf("%s.fallback[%d]", at, k)
				if !snmpTypes[fb.Type] {
					errs.Addf(fat+".type", "%q: want integer, gauge32, counter32, counter64, timeticks or octetstring", fb.Type)
				}
				if err := checkOID(fb.OID); err != nil {
					errs.Addf(fat+".oid", "%v", err)
				}
				if fb.Table != "" || fb.Order != "" || fb.Bit != nil {
					errs.Addf(fat, "table, order and bit are for Modbus profiles")
				}
			}
		case "nut":
			if len(f.Fallback) > 0 {
				errs.Addf(at+".fallback", "fallbacks are for SNMP profiles")
			}
			if f.Var == "" {
				errs.Addf(at+".var", "missing: the NUT variable, such as battery.charge")
			}
			if !nutTypes[f.Type] {
				errs.Addf(at+".type", "%q: want number, text or status", f.Type)
			}
			if f.OID != "" || f.Walk || f.Table != "" || f.Order != "" || f.Bit != nil {
				errs.Addf(at, "oid, walk, table, order and bit are for SNMP and Modbus profiles")
			}
		case "modbus":
			if f.OID != "" || f.Walk {
				errs.Addf(at, "oid and walk are for SNMP profiles")
			}
			checkRegister(f, at, &errs)
			checkModbusFallbacks(f, at, &errs)
		}
	}
	p.validateTables(&errs)
	return errs.Err()
}

func checkOID(oid string) error {
	if oid == "" {
		return fmt.Errorf("missing")
	}
	parts := strings.Split(strings.TrimPrefix(oid, "."), ".")
	if len(parts) < 2 {
		return fmt.Errorf("%q: want a numeric OID such as 1.3.6.1.2.1.33.1.2.3.0", oid)
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return fmt.Errorf("%q: want a numeric OID (no MIB names)", oid)
		}
	}
	return nil
}
