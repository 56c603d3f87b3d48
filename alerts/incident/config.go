package incident

import (
	"fmt"
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Operator is the kind of network operator the hospital is under the
// national rules on reporting cybersecurity incidents (国家网络安全事件报告
// 管理办法, in force since 2025-11-01, art. 4); it gives the default
// national reporting deadline of a class.
type Operator string

// Operators and their deadlines.
const (
	// OperatorCII: the incident concerns critical information
	// infrastructure (关键信息基础设施): report within 1 hour.
	OperatorCII Operator = "cii"
	// OperatorCentral: a unit of a central or state organ (中央和国家机关
	// 各部门及其直属单位): report within 2 hours.
	OperatorCentral Operator = "central"
	// OperatorOther: any other operator (其他网络运营者), to the
	// provincial cyberspace office: within 4 hours.
	OperatorOther Operator = "other"
)

// Deadline returns the national deadline of o, 0 for an unknown one.
func (o Operator) Deadline() time.Duration {
	switch o {
	case OperatorCII:
		return time.Hour
	case OperatorCentral:
		return 2 * time.Hour
	case OperatorOther:
		return 4 * time.Hour
	}
	return 0
}

// Condition kinds: what, beyond matching, makes an alarm open an incident.
const (
	// CondAny: any firing alarm that matches.
	CondAny = "any"
	// CondMainsLost: a matching alarm (ups-on-battery) still firing after
	// share × the room's carry time (rules.Room.CarryTime; MinFor when the
	// room declares none).
	CondMainsLost = "mains-lost"
	// CondRoomUnreachable: matching alarms (device-unreachable) fire for
	// every configured device of the room at once.
	CondRoomUnreachable = "room-unreachable"
	// CondAbove: the alarm's value Value is at or above Above, or the
	// room's fact Fact (rules.Room.Facts, e.g. shutdown_temperature_c)
	// when the room has it.
	CondAbove = "above"
)

// Config is the "incidents" section: which alarms open an incident, the
// reporting deadlines and where incidents are kept.
type Config struct {
	// Bucket is the key-value bucket of incidents and their reports
	// (default roomwatch_incidents).
	Bucket string `yaml:"bucket"`
	// Durable names the tracker's durable consumer on each site's alarm
	// stream (default roomwatch-incidents).
	Durable string `yaml:"durable"`
	// Lookback is how far back a new consumer starts reading the alarm
	// stream (default 24h), so an episode under way when the tracker is
	// first started is found.
	Lookback time.Duration `yaml:"lookback"`
	// Operator is the default operator kind of the classes (default
	// other, 4 h).
	Operator Operator `yaml:"operator"`
	// HospitalDeadline is the hospital's own reporting deadline for every
	// incident (default 24h; 0 after defaults is not allowed).
	HospitalDeadline time.Duration `yaml:"hospital_deadline"`
	// HospitalResponsible is who makes the hospital's report (default
	// the class's responsible).
	HospitalResponsible string `yaml:"hospital_responsible"`
	// RemindBefore is how long before a deadline the reminder alarm is
	// raised (default 30m; half the deadline when that is shorter).
	RemindBefore time.Duration `yaml:"remind_before"`
	// TickInterval is how often deadlines and timed conditions are
	// checked (default 30s).
	TickInterval time.Duration `yaml:"tick_interval"`
	// Timezone is the zone times are shown in (default Asia/Shanghai).
	Timezone string `yaml:"timezone"`
	// Classes are the classes of alarm that open an incident.
	Classes []Class `yaml:"classes"`

	loc *time.Location
}

// Class is one class of incident.
type Class struct {
	// Name identifies the class (mains-lost); it is part of incident ids.
	Name string `yaml:"name"`
	// Title by language ("zh", "en"), shown in reminders and reports.
	Title map[string]string `yaml:"title"`
	// Match selects the alarms of the class.
	Match Match `yaml:"match"`
	// Condition is what more the alarms must show (default any).
	Condition Condition `yaml:"condition"`
	// Operator overrides the configuration's Operator for this class.
	Operator Operator `yaml:"operator"`
	// Deadline is the national reporting deadline; default the
	// operator's (1h, 2h, 4h).
	Deadline time.Duration `yaml:"deadline"`
	// HospitalDeadline overrides the hospital's deadline for this class.
	HospitalDeadline time.Duration `yaml:"hospital_deadline"`
	// Responsible is the person or role who reports (信息科科长).
	Responsible string `yaml:"responsible"`
}

// Match selects alarms; an empty list matches anything.
type Match struct {
	Rules      []string          `yaml:"rules"`
	Severities []alerts.Severity `yaml:"severities"`
	Sites      []string          `yaml:"sites"`
	Rooms      []string          `yaml:"rooms"`
}

// Condition is a class's condition; Kind is one of the Cond constants.
type Condition struct {
	Kind string `yaml:"kind"`
	// Share of the room's carry time (mains-lost), 0 < share ≤ 1.
	Share float64 `yaml:"share"`
	// MinFor is the mains-lost delay for a room without a carry time
	// (default 15m).
	MinFor time.Duration `yaml:"min_for"`
	// Value names the alarm value compared (above), e.g. temperature_c.
	Value string `yaml:"value"`
	// Above is the limit (above) when the room has no fact Fact.
	Above *float64 `yaml:"above"`
	// Fact names the room fact that gives the limit (above).
	Fact string `yaml:"fact"`
}

// DefaultConfig returns the defaults without classes.
func DefaultConfig() Config {
	return Config{
		Bucket:           "roomwatch_incidents",
		Durable:          "roomwatch-incidents",
		Lookback:         24 * time.Hour,
		Operator:         OperatorOther,
		HospitalDeadline: 24 * time.Hour,
		RemindBefore:     30 * time.Minute,
		TickInterval:     30 * time.Second,
		Timezone:         "Asia/Shanghai",
	}
}

// Defaults fills zero fields from DefaultConfig and each class's
// condition, operator and deadlines.
func (c *Config) Defaults() {
	d := DefaultConfig()
	if c.Bucket == "" {
		c.Bucket = d.Bucket
	}
	if c.Durable == "" {
		c.Durable = d.Durable
	}
	if c.Lookback == 0 {
		c.Lookback = d.Lookback
	}
	if c.Operator == "" {
		c.Operator = d.Operator
	}
	if c.HospitalDeadline == 0 {
		c.HospitalDeadline = d.HospitalDeadline
	}
	if c.RemindBefore == 0 {
		c.RemindBefore = d.RemindBefore
	}
	if c.TickInterval == 0 {
		c.TickInterval = d.TickInterval
	}
	if c.Timezone == "" {
		c.Timezone = d.Timezone
	}
	for i := range c.Classes {
		k := &c.Classes[i]
		if k.Condition.Kind == "" {
			k.Condition.Kind = CondAny
		}
		if k.Condition.Kind == CondMainsLost && k.Condition.MinFor == 0 {
			k.Condition.MinFor = 15 * time.Minute
		}
		if k.Operator == "" {
			k.Operator = c.Operator
		}
		if k.Deadline == 0 {
			k.Deadline = k.Operator.Deadline()
		}
		if k.HospitalDeadline == 0 {
			k.HospitalDeadline = c.HospitalDeadline
		}
	}
}

// Validate adds every problem of c to errs, naming fields under path
// ("incidents"). It also loads the time zone.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	if c.Bucket == "" {
		errs.Addf(yamlconf.Join(path, "bucket"), "empty")
	}
	if c.Durable == "" {
		errs.Addf(yamlconf.Join(path, "durable"), "empty")
	}
	if c.Lookback < 0 {
		errs.Addf(yamlconf.Join(path, "lookback"), "must not be negative")
	}
	if c.Operator.Deadline() == 0 {
		errs.Addf(yamlconf.Join(path, "operator"), "%q: want cii (1 h), central (2 h) or other (4 h)", c.Operator)
	}
	if c.HospitalDeadline <= 0 {
		errs.Addf(yamlconf.Join(path, "hospital_deadline"), "must be positive")
	}
	if c.RemindBefore <= 0 {
		errs.Addf(yamlconf.Join(path, "remind_before"), "must be positive")
	}
	if c.TickInterval < time.Second {
		errs.Addf(yamlconf.Join(path, "tick_interval"), "must be at least 1s")
	}
	c.loc = yamlconf.Location(errs, yamlconf.Join(path, "timezone"), c.Timezone)
	seen := map[string]bool{}
	for i := range c.Classes {
		k := &c.Classes[i]
		p := yamlconf.Join(path, fmt.Sprintf("classes[%d]", i))
		switch {
		case k.Name == "":
			errs.Addf(p+".name", "empty")
		case seen[k.Name]:
			errs.Addf(p+".name", "%q: a class of this name is defined above", k.Name)
		}
		seen[k.Name] = true
		if k.Title["zh"] == "" || k.Title["en"] == "" {
			errs.Addf(p+".title", "want zh and en titles")
		}
		for j, s := range k.Match.Severities {
			if !s.Valid() {
				errs.Addf(fmt.Sprintf("%s.match.severities[%d]", p, j), "%q: want critical, major, minor or warning", s)
			}
		}
		if k.Operator.Deadline() == 0 && k.Operator != c.Operator { // else reported above
			errs.Addf(p+".operator", "%q: want cii (1 h), central (2 h) or other (4 h)", k.Operator)
		}
		if k.Deadline < 0 { // 0 comes from an unknown operator, reported
			errs.Addf(p+".deadline", "must be positive")
		}
		if k.HospitalDeadline <= 0 {
			errs.Addf(p+".hospital_deadline", "must be positive")
		}
		if k.Responsible == "" {
			errs.Addf(p+".responsible", "empty: name the person or role who reports")
		}
		cd := k.Condition
		cp := p + ".condition"
		switch cd.Kind {
		case CondAny, CondRoomUnreachable:
		case CondMainsLost:
			if cd.Share <= 0 || cd.Share > 1 {
				errs.Addf(cp+".share", "must be above 0 and at most 1 (0.5 = half the carry time)")
			}
			if cd.MinFor < 0 {
				errs.Addf(cp+".min_for", "must not be negative")
			}
		case CondAbove:
			if cd.Value == "" {
				errs.Addf(cp+".value", "empty: name the alarm value, e.g. temperature_c")
			}
			if cd.Above == nil && cd.Fact == "" {
				errs.Addf(cp, "set above, fact or both")
			}
		default:
			errs.Addf(cp+".kind", "%q: want any, mains-lost, room-unreachable or above", cd.Kind)
		}
	}
}

// Parse decodes a configuration file holding the incidents section alone,
// applies defaults and validates it.
func Parse(file string, data []byte) (*Config, error) {
	var c Config
	yf, err := yamlconf.Decode(file, data, &c)
	if err != nil {
		return nil, err
	}
	c.Defaults()
	errs := &yamlconf.Errors{File: yf}
	c.Validate(errs, "")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// location returns the configured zone (Validate loads it).
func (c *Config) location() *time.Location {
	if c.loc == nil {
		c.loc = yamlconf.Location(nil, "", c.Timezone)
	}
	return c.loc
}

// class returns the class named name.
func (c *Config) class(name string) *Class {
	i := slices.IndexFunc(c.Classes, func(k Class) bool { return k.Name == name })
	if i < 0 {
		return nil
	}
	return &c.Classes[i]
}

func (m Match) matches(a *alerts.Alarm) bool {
	return in(m.Rules, a.Rule) && in(m.Severities, a.Severity) && in(m.Sites, a.Site) && in(m.Rooms, a.Room)
}

func in[T comparable](list []T, v T) bool { return len(list) == 0 || slices.Contains(list, v) }

// join names field under path ("incidents.bucket", or "bucket" at the top).
