package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// File is the YAML form of a rules file: named calendars and rules.
type File struct {
	Calendars map[string]*Calendar `yaml:"calendars"`
	Rules     []Rule               `yaml:"rules"`
}

// Rule is one alarm rule. Exactly one kind is set: Condition, Band, Rate,
// Stuck, NoData, Disagree or SensorFault.
type Rule struct {
	// Name identifies the rule (room-temperature-high); unique in a set.
	Name string `yaml:"name"`
	// Description documents the rule for the person reading the file.
	Description string   `yaml:"description"`
	Severity    Severity `yaml:"severity"`
	Match       Match    `yaml:"match"`
	// Disabled turns off a rule of the same name from an earlier set
	// (see Merge).
	Disabled bool `yaml:"disabled"`

	// Condition is an expr expression over the sample's Good values by
	// canonical name (float64, bool, string), the room facts
	// (carry_time_min and Room.Facts), derived values (dew_point_c) and
	// `threshold`. It fires when true. A referenced value that is
	// missing or not Good makes the result unknown: no change.
	Condition string `yaml:"condition"`
	// Clear, when set, is the separate condition that clears the alert;
	// while neither holds the alert keeps its state (hysteresis).
	Clear string `yaml:"clear"`
	// Threshold is the number a Condition may use as `threshold`, so a
	// site or room can override it (Override).
	Threshold *float64 `yaml:"threshold"`
	// Value names the value shown as .Value in messages for a Condition
	// rule; default: the first sample value the condition names.
	Value string `yaml:"value"`

	Band        *Band        `yaml:"band"`
	Rate        *Rate        `yaml:"rate"`
	Stuck       *Stuck       `yaml:"stuck"`
	NoData      *NoData      `yaml:"nodata"`
	Disagree    *Disagree    `yaml:"disagree"`
	SensorFault *SensorFault `yaml:"sensor_fault"`

	// For is how long the condition must hold before the alert fires.
	For time.Duration `yaml:"for"`
	// KeepFiringFor keeps a firing alert firing this long after its
	// condition cleared; a relapse within it is not a new alarm.
	KeepFiringFor time.Duration `yaml:"keep_firing_for"`
	// Flap limits re-notification of an alert that toggles too often.
	Flap *Flap `yaml:"flap"`
	// When gates the rule by a calendar: outside the window the
	// condition counts as false.
	When *When `yaml:"when"`
	// Values lists more sample values to carry in the alert and its
	// messages (runtime_min in the mains-lost text).
	Values []string `yaml:"values"`
	// Message holds the text templates (Go text/template) by language.
	Message Message `yaml:"message"`
}

// Match selects devices; every non-empty field must equal, empty = all.
type Match struct {
	Site    string            `yaml:"site"`
	Room    string            `yaml:"room"`
	Device  string            `yaml:"device"`
	Profile string            `yaml:"profile"`
	Class   string            `yaml:"class"`
	Labels  map[string]string `yaml:"labels"`
}

// Band fires when Value goes above Above (or below Below) and clears only
// when it is back beyond Clear: fire at 28 °C, clear below 27 °C.
type Band struct {
	Value string   `yaml:"value"`
	Above *float64 `yaml:"above"`
	Below *float64 `yaml:"below"`
	// Clear is the bound to cross back; default: Above/Below itself.
	Clear *float64 `yaml:"clear"`
}

// Rate fires when Value changes faster than Above units per minute (or
// falls faster than Below, a negative number) over Window.
type Rate struct {
	Value  string        `yaml:"value"`
	Window time.Duration `yaml:"window"`
	Above  *float64      `yaml:"above"`
	Below  *float64      `yaml:"below"`
}

// Stuck fires when Value has not moved by more than Tolerance for For.
type Stuck struct {
	Value     string        `yaml:"value"`
	For       time.Duration `yaml:"for"`
	Tolerance float64       `yaml:"tolerance"`
}

// NoData fires when a device failed Polls polls in a row, or sent nothing
// for Polls intervals (checked by Tick, also for a device that never
// answered since start).
type NoData struct {
	Polls int `yaml:"polls"`
}

// Disagree compares the latest Value of the matched devices of one room
// and fires when the highest and lowest differ by at least By. Readings
// older than MaxAge (default 5m) are left out.
type Disagree struct {
	Value  string        `yaml:"value"`
	By     float64       `yaml:"by"`
	Clear  *float64      `yaml:"clear"`
	MaxAge time.Duration `yaml:"max_age"`
}

// SensorFault fires when a value (any, or one of Values) has quality
// sensor-fault, and clears when they are all good again.
type SensorFault struct {
	Values []string `yaml:"values"`
}

// Flap protection: an alert that fired Max times within Window is
// flapping; it then stays Firing until its condition has been clear for
// Hold (default Window).
type Flap struct {
	Window time.Duration `yaml:"window"`
	Max    int           `yaml:"max"`
	Hold   time.Duration `yaml:"hold"`
}

// When gates a rule by a named calendar: Inside or Outside it.
type When struct {
	Inside  string `yaml:"inside"`
	Outside string `yaml:"outside"`
	// Calendar is the resolved calendar (set by Parse).
	Calendar *Calendar `yaml:"-"`
}

// Message holds the alert text templates; MessageData lists what they
// see: titles of site, room and device, the main value's display name and
// reading, every carried value formatted, with its unit and by display
// name, limits, and how long the condition has held. The severity tag
// (【严重】, [CRITICAL]) is prefixed by the engine.
type Message struct {
	Zh string `yaml:"zh"`
	En string `yaml:"en"`
	// ResolvedZh and ResolvedEn are the recovery (prefixed
	// 【恢复】/[RESOLVED]): what is back to normal, with the value now
	// ({{.Current}}) and how long it lasted ({{.Lasted}}). Left out, a
	// default one says so for the rule's main value; the alarm's own text
	// is never repeated.
	ResolvedZh string `yaml:"resolved_zh"`
	ResolvedEn string `yaml:"resolved_en"`
}

// kind names the kinds the rule sets ("condition", "band", …): one for a
// valid rule.
func (r *Rule) kind() []string {
	var k []string
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"condition", r.Condition != ""},
		{"band", r.Band != nil},
		{"rate", r.Rate != nil},
		{"stuck", r.Stuck != nil},
		{"nodata", r.NoData != nil},
		{"disagree", r.Disagree != nil},
		{"sensor_fault", r.SensorFault != nil},
	} {
		if c.set {
			k = append(k, c.name)
		}
	}
	return k
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Parse decodes and validates a rules file. Errors name the file, line
// and field ("rules.yaml:12: rules[3].condition: …"); an invalid
// expression or template is rejected with its compile error.
func Parse(file string, data []byte) ([]Rule, error) {
	var f File
	yf, err := yamlconf.Decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	errs := &yamlconf.Errors{File: yf}
	names := make([]string, 0, len(f.Calendars))
	for name := range f.Calendars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := f.Calendars[name]
		if c == nil {
			errs.Addf("calendars."+name, "empty calendar")
			continue
		}
		c.Name = name
		c.compile(errs, "calendars."+name)
	}
	seen := map[string]int{}
	for i := range f.Rules {
		r := &f.Rules[i]
		p := fmt.Sprintf("rules[%d]", i)
		if j, dup := seen[r.Name]; dup && r.Name != "" {
			errs.Addf(p+".name", "duplicate rule name %q (also rules[%d])", r.Name, j)
		}
		seen[r.Name] = i
		validateRule(errs, p, r, f.Calendars)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return f.Rules, nil
}

func validateRule(errs *yamlconf.Errors, p string, r *Rule, cals map[string]*Calendar) {
	switch {
	case r.Name == "":
		errs.Addf(p+".name", "missing")
	case !nameRE.MatchString(r.Name):
		errs.Addf(p+".name", "%q: use lower-case letters, digits, '-', '_' and '.'", r.Name)
	}
	if r.Disabled {
		return
	}
	if !r.Severity.Valid() {
		errs.Addf(p+".severity", "%q: want critical, major, minor or warning", r.Severity)
	}
	kinds := r.kind()
	switch len(kinds) {
	case 0:
		errs.Addf(p, "no condition: set one of condition, band, rate, stuck, nodata, disagree, sensor_fault")
	case 1:
	default:
		errs.Addf(p, "several kinds set (%s): a rule has exactly one", strings.Join(kinds, ", "))
	}
	if r.Clear != "" && r.Condition == "" {
		errs.Addf(p+".clear", "only a condition rule takes a clear expression")
	}
	if r.Condition != "" {
		if _, err := compileExpr(r.Condition); err != nil {
			errs.Addf(p+".condition", "%v", oneLine(err))
		}
	}
	if r.Clear != "" {
		if _, err := compileExpr(r.Clear); err != nil {
			errs.Addf(p+".clear", "%v", oneLine(err))
		}
	}
	if r.Band != nil {
		b := r.Band
		requireValue(errs, p+".band.value", b.Value)
		switch {
		case (b.Above == nil) == (b.Below == nil):
			errs.Addf(p+".band", "set exactly one of above and below")
		case b.Above != nil && b.Clear != nil && *b.Clear > *b.Above:
			errs.Addf(p+".band.clear", "%g is above the firing bound %g: the band would never clear", *b.Clear, *b.Above)
		case b.Below != nil && b.Clear != nil && *b.Clear < *b.Below:
			errs.Addf(p+".band.clear", "%g is below the firing bound %g: the band would never clear", *b.Clear, *b.Below)
		}
	}
	if r.Rate != nil {
		requireValue(errs, p+".rate.value", r.Rate.Value)
		if r.Rate.Window < time.Second {
			errs.Addf(p+".rate.window", "must be at least 1s (write 5m)")
		}
		if (r.Rate.Above == nil) == (r.Rate.Below == nil) {
			errs.Addf(p+".rate", "set exactly one of above (rising, units per minute) and below (falling, negative)")
		}
	}
	if r.Stuck != nil {
		requireValue(errs, p+".stuck.value", r.Stuck.Value)
		if r.Stuck.For < time.Second {
			errs.Addf(p+".stuck.for", "must be at least 1s (write 4h)")
		}
		if r.Stuck.Tolerance < 0 {
			errs.Addf(p+".stuck.tolerance", "must not be negative")
		}
	}
	if r.NoData != nil && r.NoData.Polls < 1 {
		errs.Addf(p+".nodata.polls", "must be at least 1")
	}
	if r.Disagree != nil {
		d := r.Disagree
		requireValue(errs, p+".disagree.value", d.Value)
		if d.By <= 0 {
			errs.Addf(p+".disagree.by", "must be positive")
		}
		if d.Clear != nil && *d.Clear > d.By {
			errs.Addf(p+".disagree.clear", "%g is above by %g: would never clear", *d.Clear, d.By)
		}
		if d.MaxAge < 0 {
			errs.Addf(p+".disagree.max_age", "must not be negative")
		}
	}
	if r.SensorFault != nil {
		for i, v := range r.SensorFault.Values {
			requireValue(errs, fmt.Sprintf("%s.sensor_fault.values[%d]", p, i), v)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"for", r.For}, {"keep_firing_for", r.KeepFiringFor}} {
		if d.v != 0 && d.v < time.Second {
			errs.Addf(p+"."+d.name, "%v: must be 0 or at least 1s (write 5m, 30s)", d.v)
		}
	}
	if r.Flap != nil {
		if r.Flap.Max < 2 {
			errs.Addf(p+".flap.max", "must be at least 2")
		}
		if r.Flap.Window < time.Second {
			errs.Addf(p+".flap.window", "must be at least 1s (write 1h)")
		}
		if r.Flap.Hold < 0 {
			errs.Addf(p+".flap.hold", "must not be negative")
		}
	}
	if w := r.When; w != nil {
		name := w.Inside
		if (w.Inside == "") == (w.Outside == "") {
			errs.Addf(p+".when", "set exactly one of inside and outside")
		}
		if name == "" {
			name = w.Outside
		}
		if name != "" {
			if c, ok := cals[name]; ok && c != nil {
				w.Calendar = c
				if c.loc == nil { // built in Go, not parsed
					c.compile(errs, p+".when")
				}
			} else {
				errs.Addf(p+".when", "unknown calendar %q", name)
			}
		}
	}
	for i, v := range r.Values {
		requireValue(errs, fmt.Sprintf("%s.values[%d]", p, i), v)
	}
	if r.Value != "" {
		requireValue(errs, p+".value", r.Value)
	}
	for _, m := range []struct{ lang, text string }{{LangZh, r.Message.Zh}, {LangEn, r.Message.En},
		{"resolved_" + LangZh, r.Message.ResolvedZh}, {"resolved_" + LangEn, r.Message.ResolvedEn}} {
		if m.text == "" {
			continue
		}
		if _, err := parseTemplate(r.Name, m.text); err != nil {
			errs.Addf(p+".message."+m.lang, "%v", oneLine(err))
		}
	}
}

var valueRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func requireValue(errs *yamlconf.Errors, path, name string) {
	switch {
	case name == "":
		errs.Addf(path, "missing value name")
	case !valueRE.MatchString(name):
		errs.Addf(path, "%q is not a value name", name)
	}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=zero").Parse(text)
}

// Merge returns base with each rule of over replacing the base rule of
// the same name (or added); a Disabled rule removes it. Use it to let a
// site file adjust the default set.
func Merge(base, over []Rule) []Rule {
	out := slices.Clone(base)
	for _, r := range over {
		i := slices.IndexFunc(out, func(b Rule) bool { return b.Name == r.Name })
		switch {
		case i >= 0 && r.Disabled:
			out = slices.Delete(out, i, i+1)
		case i >= 0:
			out[i] = r
		case !r.Disabled:
			out = append(out, r)
		}
	}
	return out
}

// equal reports whether two rules have the same definition.
func (r *Rule) equal(o *Rule) bool { return reflect.DeepEqual(r, o) }
