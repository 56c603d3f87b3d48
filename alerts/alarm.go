package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

// Schema is the value of the "schema" field of every alarm message of this
// version; V is the matching "v" field.
const (
	Schema = "roomwatch.alarm/v1"
	V      = 1
)

// Severity ranks an alarm: critical, major, minor, warning. It is the
// rules engine's severity, so both speak of one scale.
type Severity = rules.Severity

// Severities, from worst to mildest.
const (
	Critical = rules.Critical
	Major    = rules.Major
	Minor    = rules.Minor
	Warning  = rules.Warning
)

// State is where an alarm is in its lifecycle.
type State string

// States of an alarm. The monitor publishes Firing and Resolved; consumers
// (the notifier, the patrol screen) move an alarm to Acknowledged.
const (
	Firing       State = "firing"
	Acknowledged State = "acknowledged"
	Resolved     State = "resolved"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s == Firing || s == Acknowledged || s == Resolved }

// Reading is one value that an alarm is about, as it was when the message
// was made.
type Reading struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	// Text is the label of an enumerated value (battery_status "low").
	Text string `json:"text,omitempty"`
	// Quality is "sensor-fault" or "comms-lost" when the value could not
	// be read; absent when it is good.
	Quality string `json:"quality,omitempty"`
	// Title is the value's display name (温度, temperature), from its
	// profile.
	Title collectors.Title `json:"title,omitzero"`
}

// Alarm is one occurrence of a rule firing for one device (or room), from
// firing to resolved. Its JSON form is the versioned message documented in
// the package comment; fields are never renamed within a version.
type Alarm struct {
	Schema string `json:"schema"`
	V      int    `json:"v"`
	// ID names this occurrence: fingerprint and start time. It is the same
	// in the firing, acknowledged and resolved messages.
	ID string `json:"id"`
	// Fingerprint identifies the rule and what it matched (the same for
	// every occurrence); it keys the alarm state bucket.
	Fingerprint string   `json:"fingerprint"`
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	State       State    `json:"state"`

	Site    string `json:"site"`
	Room    string `json:"room"`
	Device  string `json:"device,omitempty"`
	Profile string `json:"profile,omitempty"`
	Class   string `json:"class,omitempty"`
	// Labels are all labels of the alarm, including the ones above.
	Labels map[string]string `json:"labels,omitempty"`
	// SiteTitle, RoomTitle and DeviceTitle are the display names of
	// Site, Room and Device, as the configuration gives them.
	SiteTitle   collectors.Title `json:"site_title,omitzero"`
	RoomTitle   collectors.Title `json:"room_title,omitzero"`
	DeviceTitle collectors.Title `json:"device_title,omitzero"`

	Values     map[string]Reading `json:"values,omitempty"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`

	// ActiveAt is when the condition began to hold (before "for").
	ActiveAt time.Time `json:"active_at"`
	// StartedAt is when the alarm fired.
	StartedAt time.Time `json:"started_at"`
	// EndedAt is when it resolved; nil while it is active.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	// UpdatedAt is when this message was made.
	UpdatedAt time.Time `json:"updated_at"`

	AckBy   string     `json:"ack_by,omitempty"`
	AckAt   *time.Time `json:"ack_at,omitempty"`
	AckNote string     `json:"ack_note,omitempty"`
	// AckVia is how the acknowledgement came (Ack.Via: cli, sms,
	// patrol, wecom).
	AckVia string `json:"ack_via,omitempty"`

	// Text is the rendered message by language: "zh" and "en" are always
	// present when the rule has templates.
	Text map[string]string `json:"text,omitempty"`
}

// ErrAcknowledged is returned when acknowledging an alarm that already was.
var ErrAcknowledged = errors.New("already acknowledged")

// idTime is how start times are written in ids: sortable, to the nanosecond.
const idTime = "20060102T150405.000000000Z"

// OccurrenceID returns the ID of the occurrence of fingerprint that fired
// at started.
func OccurrenceID(fingerprint string, started time.Time) string {
	return fingerprint + "-" + started.UTC().Format(idTime)
}

// Active reports whether the alarm is firing or acknowledged.
func (a *Alarm) Active() bool { return a.State == Firing || a.State == Acknowledged }

// MsgID is the Nats-Msg-Id of this message: fingerprint, state and start
// time. Publishing the same transition twice (after a restart) yields the
// same id, so JetStream stores it once; the resolution and the
// acknowledgement have ids of their own.
func (a *Alarm) MsgID() string {
	return a.Fingerprint + ":" + string(a.State) + ":" + a.StartedAt.UTC().Format(idTime)
}

// AckMsgID is the Nats-Msg-Id of the message that announces the
// acknowledgement of this occurrence, whatever its state then.
func (a *Alarm) AckMsgID() string {
	return a.Fingerprint + ":" + string(Acknowledged) + ":" + a.StartedAt.UTC().Format(idTime)
}

// Acknowledge records that by has seen the alarm at at. A firing alarm
// becomes Acknowledged; a resolved one stays Resolved with the
// acknowledgement recorded (who reacted is part of the record). A second
// acknowledgement returns ErrAcknowledged and changes nothing.
func (a *Alarm) Acknowledge(by, note string, at time.Time) error {
	if a.AckAt != nil {
		return fmt.Errorf("alarm %s: %w by %s", a.ID, ErrAcknowledged, a.AckBy)
	}
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("alarm %s: acknowledge: empty name", a.ID)
	}
	t := at
	a.AckBy, a.AckAt, a.AckNote = by, &t, note
	if a.State == Firing {
		a.State = Acknowledged
	}
	a.UpdatedAt = at
	return nil
}

// Resolve ends the alarm at at. Resolving a resolved alarm changes nothing.
func (a *Alarm) Resolve(at time.Time) {
	if a.State == Resolved {
		return
	}
	t := at
	a.State, a.EndedAt, a.UpdatedAt = Resolved, &t, at
}

// Duration is how long the alarm lasted, or has lasted by now.
func (a *Alarm) Duration(now time.Time) time.Duration {
	if a.EndedAt != nil {
		return a.EndedAt.Sub(a.StartedAt)
	}
	return now.Sub(a.StartedAt)
}

// Message returns the text in lang, falling back to Chinese, then English,
// then the rule name.
func (a *Alarm) Message(lang string) string {
	for _, l := range []string{lang, "zh", "en"} {
		if s := a.Text[l]; s != "" {
			return s
		}
	}
	return a.Rule
}

// Clone returns a deep copy of a.
func (a *Alarm) Clone() *Alarm {
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Values = maps.Clone(a.Values)
	c.Thresholds = maps.Clone(a.Thresholds)
	c.Text = maps.Clone(a.Text)
	if a.EndedAt != nil {
		t := *a.EndedAt
		c.EndedAt = &t
	}
	if a.AckAt != nil {
		t := *a.AckAt
		c.AckAt = &t
	}
	return &c
}

// Validate checks that a is a well-formed message of this version.
func (a *Alarm) Validate() error {
	var errs []string
	if a.Schema != Schema {
		errs = append(errs, fmt.Sprintf("schema %q, want %q", a.Schema, Schema))
	}
	if a.V != V {
		errs = append(errs, fmt.Sprintf("v %d, want %d", a.V, V))
	}
	for _, f := range []struct{ name, v string }{{"id", a.ID}, {"fingerprint", a.Fingerprint}, {"rule", a.Rule}, {"site", a.Site}, {"room", a.Room}} {
		if f.v == "" {
			errs = append(errs, f.name+" empty")
		}
	}
	if !a.Severity.Valid() {
		errs = append(errs, fmt.Sprintf("severity %q unknown", a.Severity))
	}
	if !a.State.Valid() {
		errs = append(errs, fmt.Sprintf("state %q unknown", a.State))
	}
	if a.StartedAt.IsZero() {
		errs = append(errs, "started_at missing")
	}
	if a.State == Resolved && a.EndedAt == nil {
		errs = append(errs, "resolved without ended_at")
	}
	if a.State == Acknowledged && a.AckAt == nil {
		errs = append(errs, "acknowledged without ack_at")
	}
	if len(errs) > 0 {
		return fmt.Errorf("alarm %q: %s", a.ID, strings.Join(errs, "; "))
	}
	return nil
}

// Marshal validates a and encodes it as its JSON message.
func (a *Alarm) Marshal() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// Unmarshal decodes and validates one alarm message. A message of another
// major version is an error naming the schema it carries.
func Unmarshal(data []byte) (*Alarm, error) {
	var a Alarm
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("alarm message: decode: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("alarm message: %w", err)
	}
	return &a, nil
}
