// Package rules turns sample sets into alarms. A Rule (YAML, see
// default.yaml) matches devices by site, room, device, profile, class or
// labels and says when an alarm fires and clears: an expression over the
// sample's values, a hysteresis band, a rate of change, a stuck value,
// no data, or two probes of one room disagreeing, gated by `for`,
// `keep_firing_for`, flap protection and working-hour calendars (whose
// public holidays a holiday file updates: ApplyHolidays). A site or room
// changes a rule's threshold, `for` and severity without copying it
// (Override).
//
// The Engine evaluates every sample set as it arrives (Eval) and advances
// timers and no-data checks on Tick. It never calls time.Now: the caller
// passes the time in. It never talks to NATS either: every state change is
// handed to a caller-supplied NotifyFunc as a Transition, and the caller
// (alerts/) publishes it and stores Alerts for Restore after a restart.
package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// State is where an alert is in its lifecycle. Acknowledgement is added
// by consumers, not here.
type State int

// States of an alert.
const (
	// Inactive: the condition does not hold (or the alert resolved).
	Inactive State = iota
	// Pending: the condition holds but not yet for the rule's `for`.
	Pending
	// Firing: the alarm is raised.
	Firing
)

var stateNames = [...]string{Inactive: "inactive", Pending: "pending", Firing: "firing"}

// String returns the state's name: inactive, pending or firing.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// MarshalText encodes a State as its name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a State from its name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown alert state %q", b)
}

// Severity is how urgent an alarm is. It is a lower-case word so it can
// be used as it is in NATS subjects (roomwatch.alarm.<site>.<room>.<severity>).
type Severity string

// Severities, from most to least urgent.
const (
	Critical Severity = "critical" // 严重: wakes someone now (mains lost, water, smoke)
	Major    Severity = "major"    // 重要: act within the hour
	Minor    Severity = "minor"    // 次要: act today
	Warning  Severity = "warning"  // 警告: look at it on the next patrol
)

// Rank orders severities: Critical 4 … Warning 1, 0 for an unknown one.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case Major:
		return 3
	case Minor:
		return 2
	case Warning:
		return 1
	}
	return 0
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Label returns the severity as shown to people in lang ("zh" or "en"):
// 严重/重要/次要/警告 or CRITICAL/MAJOR/MINOR/WARNING.
func (s Severity) Label(lang string) string {
	if lang == "zh" {
		switch s {
		case Critical:
			return "严重"
		case Major:
			return "重要"
		case Minor:
			return "次要"
		case Warning:
			return "警告"
		}
	}
	return strings.ToUpper(string(s))
}

// Label keys every Alert carries (values may be empty: a room-wide alert
// has no device).
const (
	LabelSite    = "site"
	LabelRoom    = "room"
	LabelDevice  = "device"
	LabelProfile = "profile"
	LabelClass   = "class"
	LabelRule    = "rule"
)

// Languages of alert texts.
const (
	LangZh = "zh"
	LangEn = "en"
)

// Alert is one rule applied to one device (or, for room-wide rules such as
// probe disagreement, one room). Its lifecycle is timestamps, so a restart
// can restore it without re-announcing it.
type Alert struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Fingerprint is a stable hash of rule, site, room and device: the
	// alert's identity across restarts and rule reloads.
	Fingerprint string `json:"fingerprint"`
	// Labels: site, room, device, profile, class, rule (LabelSite…).
	Labels   map[string]string `json:"labels"`
	Severity Severity          `json:"severity"`
	State    State             `json:"state"`
	// ActiveAt is when the condition started to hold (Pending began).
	ActiveAt time.Time `json:"active_at,omitzero"`
	// FiredAt is when the alert became Firing.
	FiredAt time.Time `json:"fired_at,omitzero"`
	// ResolvedAt is when a Firing alert went back to Inactive.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// LastEval is the time of the last evaluation that concerned it.
	LastEval time.Time `json:"last_eval,omitzero"`
	// Values are the sample values the rule looked at, by name (for a
	// room-wide rule: "device.value"), as seen at the last transition.
	Values map[string]collectors.Value `json:"values,omitempty"`
	// Thresholds are the limits the rule compared with, by name
	// ("above", "clear", "by", "carry_time_min", …).
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	// Text is the rendered message by language (LangZh, LangEn), rendered
	// at each transition.
	Text map[string]string `json:"text,omitempty"`
	// Titles are the display names of the alert's site, room and device
	// (keys LabelSite, LabelRoom, LabelDevice), as the texts name them.
	Titles map[string]collectors.Title `json:"titles,omitempty"`
	// ValueTitles are the display names of Values, by value name.
	ValueTitles map[string]collectors.Title `json:"value_titles,omitempty"`
	// FlapCount is how often the alert fired within the rule's flap
	// window. While it is at or above the rule's flap limit the alert is
	// held Firing (no resolve/re-fire notifications) until the condition
	// has stayed clear for the flap hold time.
	FlapCount int `json:"flap_count,omitempty"`
}

// Transition is one state change of an alert. To == Firing is an alarm
// to announce; From == Firing, To == Inactive is its resolution. Pending
// transitions are reported only with the ReportPending option.
type Transition struct {
	Alert Alert     `json:"alert"`
	From  State     `json:"from"`
	To    State     `json:"to"`
	At    time.Time `json:"at"`
}

// NotifyFunc receives the transitions caused by one Eval, Tick or Update
// call, in order. It is called synchronously with the engine locked: it
// must not call back into the Engine, and it should hand the transitions
// on (queue, publish) quickly.
type NotifyFunc func(ts []Transition)

// Inventory is the configured machine rooms and devices. The engine uses
// it for room facts (titles, carry time, threshold overrides), device
// titles, and to notice devices that never answered since start.
type Inventory struct {
	Sites []Site
}

// Site is one hospital site (院区).
type Site struct {
	// Name is the site's id as in Device.Site.
	Name string
	// Title by language (LangZh, LangEn); Name when missing.
	Title map[string]string
	// Overrides change rules for every device of the site, by rule name;
	// a room's override of the same rule wins field by field.
	Overrides map[string]Override
	Rooms     []Room
}

// Room is one machine room and what the rules need to know about it.
type Room struct {
	// Name is the room's id as in Device.Room.
	Name string
	// Title by language, e.g. {"zh": "一号机房", "en": "Room 1"}.
	Title map[string]string
	// CarryTime is how long the UPS must carry the room on battery
	// (hospitals quote 3, 6 or 8 hours); 0 = not declared. Rules see it
	// as carry_time_min.
	CarryTime time.Duration
	// Overrides change rules for this room, by rule name
	// (room-temperature-high: {threshold: 30, for: 5m}), over the site's.
	Overrides map[string]Override
	// Facts are extra numbers rule conditions may use by name.
	Facts   map[string]float64
	Devices []DeviceInfo
}

// DeviceInfo is one configured device.
type DeviceInfo struct {
	Device collectors.Device
	// Interval is the device's poll interval; no-data rules count
	// missed polls with it.
	Interval time.Duration
	// Title by language, e.g. {"zh": "UPS1", "en": "UPS1"}; the device
	// name when missing.
	Title map[string]string
}
