package incident

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
)

// Schema of an incident record in the bucket.
const Schema = "roomwatch.incident/v1"

// Deadline kinds.
const (
	// National is the report to the authorities under the national rules.
	National = "national"
	// Hospital is the hospital's own report.
	Hospital = "hospital"
)

// Deadline is one reporting clock of an incident and what the tracker
// did about it.
type Deadline struct {
	Kind        string    `json:"kind"` // national | hospital
	WithinMin   float64   `json:"within_min"`
	Due         time.Time `json:"due"`
	Responsible string    `json:"responsible"`
	// RemindedAt: the incident-report-due alarm was raised.
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
	// OverdueAt: the incident-report-overdue alarm was raised.
	OverdueAt *time.Time `json:"overdue_at,omitempty"`
	// ClearedAt: the report was signed and the alarms above resolved.
	ClearedAt *time.Time `json:"cleared_at,omitempty"`
}

// Within is the deadline's length.
func (d *Deadline) Within() time.Duration { return time.Duration(d.WithinMin * float64(time.Minute)) }

// remindAt is when the reminder is due: RemindBefore before Due, or half
// way when the deadline is shorter than twice that.
func (d *Deadline) remindAt(before time.Duration) time.Time {
	return d.Due.Add(-min(before, d.Within()/2))
}

// AlarmRef is one alarm of an incident's episode as last seen.
type AlarmRef struct {
	ID          string            `json:"id"`
	Fingerprint string            `json:"fingerprint"`
	Rule        string            `json:"rule"`
	Severity    alerts.Severity   `json:"severity"`
	State       alerts.State      `json:"state"`
	Device      string            `json:"device,omitempty"`
	StartedAt   time.Time         `json:"started_at"`
	EndedAt     *time.Time        `json:"ended_at,omitempty"`
	Text        map[string]string `json:"text,omitempty"`
}

// Incident is one incident: the episode of alarms of a class in one room,
// with its reporting clocks. Its JSON form is stored in the incident
// bucket under Key.
type Incident struct {
	Schema string `json:"schema"`
	// ID is <class>_<room>_<first alarm's start, UTC>: deterministic, so
	// a redelivered alarm or a restarted tracker finds it again.
	ID    string `json:"id"`
	Site  string `json:"site"`
	Room  string `json:"room"`
	Class string `json:"class"`
	// Title is the class's title, RoomTitle the room's, by language.
	Title     map[string]string `json:"title"`
	RoomTitle map[string]string `json:"room_title,omitempty"`
	// StartedAt is when the first alarm of the episode fired; OpenedAt
	// when the class's condition was met (the clocks start there).
	StartedAt time.Time `json:"started_at"`
	OpenedAt  time.Time `json:"opened_at"`
	// ResolvedAt is when the last alarm of the class resolved.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Alarms     []AlarmRef `json:"alarms"`
	Deadlines  []Deadline `json:"deadlines"`
	// Signed is the signature of the latest signed report revision; the
	// clocks stop when it is set.
	Signed    *Signature `json:"signed,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Signature is who signed a report, when and from where.
type Signature struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	From string    `json:"from,omitempty"` // client address, device
	// Revision is the signed report revision.
	Revision int `json:"revision"`
}

// Key is the incident's key in the bucket: inc.<site>.<id>.
func (in *Incident) Key() string { return Key(in.Site, in.ID) }

// Key is the key of incident id of site.
func Key(site, id string) string { return "inc." + alerts.KeyToken(site) + "." + id }

// NewID returns the id of the incident of class in room whose first alarm
// fired at started.
func NewID(class, room string, started time.Time) string {
	return alerts.KeyToken(class) + "_" + alerts.KeyToken(room) + "_" + started.UTC().Format("20060102T150405Z")
}

// Active reports whether some alarm of the episode is still active.
func (in *Incident) Active() bool { return in.ResolvedAt == nil }

// Deadline returns the deadline of kind, nil if none.
func (in *Incident) Deadline(kind string) *Deadline {
	for i := range in.Deadlines {
		if in.Deadlines[i].Kind == kind {
			return &in.Deadlines[i]
		}
	}
	return nil
}

// Left is the time left until the earliest deadline not yet met at now
// (negative when overdue), and that deadline; nil when the report is
// signed. The screen shows it as the clock.
func (in *Incident) Left(now time.Time) (time.Duration, *Deadline) {
	if in.Signed != nil {
		return 0, nil
	}
	var best *Deadline
	for i := range in.Deadlines {
		if best == nil || in.Deadlines[i].Due.Before(best.Due) {
			best = &in.Deadlines[i]
		}
	}
	if best == nil {
		return 0, nil
	}
	return best.Due.Sub(now), best
}

// addAlarm records a in the episode, or updates its entry. It reports
// whether anything changed.
func (in *Incident) addAlarm(a *alerts.Alarm) bool {
	ref := AlarmRef{ID: a.ID, Fingerprint: a.Fingerprint, Rule: a.Rule, Severity: a.Severity, State: a.State,
		Device: a.Device, StartedAt: a.StartedAt, EndedAt: a.EndedAt, Text: a.Text}
	i := slices.IndexFunc(in.Alarms, func(r AlarmRef) bool { return r.ID == a.ID })
	if i < 0 {
		in.Alarms = append(in.Alarms, ref)
		slices.SortStableFunc(in.Alarms, func(x, y AlarmRef) int { return x.StartedAt.Compare(y.StartedAt) })
		return true
	}
	old := in.Alarms[i]
	if old.State == alerts.Resolved || (old.State == ref.State && (old.EndedAt == nil) == (ref.EndedAt == nil)) {
		return false // a resolution is final; a redelivery changes nothing
	}
	in.Alarms[i] = ref
	return true
}

// hasAlarm reports whether the alarm id belongs to the episode.
func (in *Incident) hasAlarm(id string) bool {
	return slices.ContainsFunc(in.Alarms, func(r AlarmRef) bool { return r.ID == id })
}

// alarmIDs returns the ids of the episode's alarms.
func (in *Incident) alarmIDs() map[string]bool {
	m := make(map[string]bool, len(in.Alarms))
	for _, r := range in.Alarms {
		m[r.ID] = true
	}
	return m
}

func (in *Incident) marshal() ([]byte, error) {
	in.Schema = Schema
	return json.Marshal(in)
}

func unmarshalIncident(data []byte) (*Incident, error) {
	var in Incident
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("incident: decode: %w", err)
	}
	if in.Schema != Schema {
		return nil, fmt.Errorf("incident %s: schema %q, want %s", in.ID, in.Schema, Schema)
	}
	return &in, nil
}
