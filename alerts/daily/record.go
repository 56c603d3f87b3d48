package daily

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
)

// Schema and version of the record's JSON form.
const (
	Schema = "roomwatch.daily/v1"
	V      = 1
)

// Record is one room's inspection material for one local day. Its JSON
// form is documented in the package comment.
type Record struct {
	Schema string `json:"schema"`
	V      int    `json:"v"`
	Site   string `json:"site"`
	Room   string `json:"room"`
	// Date is the local day, yyyy-mm-dd, in TZ.
	Date string `json:"date"`
	TZ   string `json:"tz"`
	// From and To bound the day: local midnight to the next one.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// UpdatedAt is the time of the latest sample or alarm folded in.
	UpdatedAt time.Time `json:"updated_at"`
	// Summary is recomputed from the rest whenever the record is encoded.
	Summary Summary               `json:"summary"`
	Devices map[string]*DeviceDay `json:"devices"`
	Alarms  []AlarmEntry          `json:"alarms"`

	// pending says how soon the changes since the record was last
	// written to the bucket must be written; writtenAt is when it was
	// (the clock of the flush, zero if never).
	pending   change
	writtenAt time.Time
}

// change is how soon a record's unwritten changes must go out.
type change uint8

const (
	// clean: nothing to write.
	clean change = iota
	// statsChange: only statistics moved (counts, sums, minima, maxima,
	// hours, last values, durations of states that hold): written at
	// most every StatsInterval.
	statsChange
	// eventChange: something a person on duty acts on or signs for (a
	// discrete state, a door, mains, reachability, a value leaving or
	// re-entering its range, a fault, an alarm, who was told, a new
	// device, value or day): written at the next flush.
	eventChange
)

// mark records a change of kind c, keeping the more urgent one.
func (rec *Record) mark(c change) { rec.pending = max(rec.pending, c) }

// Summary is the room's day at a glance.
type Summary struct {
	Devices             int     `json:"devices"`
	DoorOpenings        int     `json:"door_openings"`
	AfterHoursOpenings  int     `json:"after_hours_openings"`
	MainsLossEpisodes   int     `json:"mains_loss_episodes"`
	MainsLossS          float64 `json:"mains_loss_s"`
	OnBattery           bool    `json:"on_battery"`
	OutOfRangeS         float64 `json:"out_of_range_s"`
	CommsLostS          float64 `json:"comms_lost_s"`
	MinAvailability     float64 `json:"min_availability"`
	Alarms              int     `json:"alarms"`
	ActiveAlarms        int     `json:"active_alarms"`
	UnacknowledgedAlarm int     `json:"unacknowledged_alarms"`
	// Discrete is the worst state of each discrete sensor kind in the
	// room (spd_fault, water_leak, smoke…).
	Discrete map[string]string `json:"discrete,omitempty"`
}

// DeviceDay is one device's day.
type DeviceDay struct {
	Profile string `json:"profile,omitempty"`
	Class   string `json:"class,omitempty"`
	// Polls counts sample sets, PollsOK those where the device answered.
	Polls   int `json:"polls"`
	PollsOK int `json:"polls_ok"`
	// Availability is PollsOK / Polls (1 when no poll yet).
	Availability float64 `json:"availability"`
	// CommsLostS is the time the device did not answer, in seconds.
	CommsLostS  float64    `json:"comms_lost_s"`
	FirstPollAt time.Time  `json:"first_poll_at"`
	LastPollAt  time.Time  `json:"last_poll_at"`
	LastOKAt    *time.Time `json:"last_ok_at,omitempty"`
	Reachable   bool       `json:"reachable"`
	// Analog holds every numeric value's statistics.
	Analog map[string]*Analog `json:"analog,omitempty"`
	// Discrete holds bool sensors other than door_open and on_battery.
	Discrete map[string]*Discrete `json:"discrete,omitempty"`
	Door     *Door                `json:"door,omitempty"`
	Mains    *Mains               `json:"mains,omitempty"`
	// Last is the last sample's values as they came (the "now" column).
	Last []collectors.Value `json:"last,omitempty"`
}

// Range is the acceptable band of a value; either bound may be absent.
type Range struct {
	Min *float64 `yaml:"min" json:"min,omitempty"`
	Max *float64 `yaml:"max" json:"max,omitempty"`
}

// Contains reports whether v is within r.
func (r Range) Contains(v float64) bool {
	return (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max)
}

// Analog is one numeric value's day.
type Analog struct {
	Unit   string    `json:"unit,omitempty"`
	Count  int       `json:"count"`
	Sum    float64   `json:"sum"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Mean   float64   `json:"mean"`
	Last   float64   `json:"last"`
	MinAt  time.Time `json:"min_at,omitzero"`
	MaxAt  time.Time `json:"max_at,omitzero"`
	LastAt time.Time `json:"last_at,omitzero"`
	// Faults counts readings of quality sensor-fault.
	Faults int    `json:"faults"`
	Range  *Range `json:"range,omitempty"`
	// OutOfRangeS is the time spent outside Range, in seconds;
	// Excursions counts the times it left the range.
	OutOfRangeS float64 `json:"out_of_range_s"`
	Excursions  int     `json:"excursions"`
	// Hours holds the good readings of each local hour of the day (0–23
	// by the room's clock), nil for an hour without any; absent in
	// records written before it existed. A Recorder counting the day
	// keeps them in hours instead; records read from JSON (Load,
	// Unmarshal, Snapshot) have them here.
	Hours []*Hour `json:"hours,omitempty"`

	// hours is Hours as a Recorder keeps it while it counts: the slots
	// of local hours hourFrom, hourFrom+1… up to the latest hour with
	// readings, in one allocation, count 0 for an hour without any (no
	// pointer and no stored mean per hour, and no slots for the hours
	// before the first reading: the hours are most of a day's record).
	hours    []hourStat
	hourFrom int
}

// hourStat is one hour of Analog.hours: an Hour without its mean, which
// is worked out when the record is encoded.
type hourStat struct {
	count               int
	sum, min, max, last float64
}

// hour returns x as an Hour, nil for an hour without readings.
func (x *hourStat) hour() *Hour {
	if x.count == 0 {
		return nil
	}
	return &Hour{Count: x.count, Sum: x.sum, Min: x.min, Max: x.max, Mean: x.sum / float64(x.count), Last: x.last}
}

// Hour is one local hour of an analog value: its good readings' count,
// sum, extremes, mean and last value.
type Hour struct {
	Count int     `json:"count"`
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Last  float64 `json:"last"`
}

// hoursPerDay is the number of slots of Hours.
const hoursPerDay = 24

// add folds the good reading v of local hour h (0–23) into a's hours,
// taking over the Hours of a record read from JSON. It allocates once
// per hour, never per reading.
func (a *Analog) add(h int, v float64) {
	if a.Hours != nil {
		for i, x := range a.Hours[:min(len(a.Hours), hoursPerDay)] {
			if x != nil {
				*a.slot(i) = hourStat{count: x.Count, sum: x.Sum, min: x.Min, max: x.Max, last: x.Last}
			}
		}
		a.Hours = nil
	}
	x := a.slot(min(max(h, 0), hoursPerDay-1))
	if x.count == 0 {
		x.min, x.max = v, v
	}
	x.min, x.max = min(x.min, v), max(x.max, v)
	x.count++
	x.sum += v
	x.last = v
}

// slot returns the slot of hour h in a.hours, growing them to just
// cover it.
func (a *Analog) slot(h int) *hourStat {
	switch {
	case len(a.hours) == 0:
		a.hours, a.hourFrom = make([]hourStat, 1), h
	case h < a.hourFrom: // a clock gone back, or a record taken over
		grown := make([]hourStat, a.hourFrom-h+len(a.hours))
		copy(grown[a.hourFrom-h:], a.hours)
		a.hours, a.hourFrom = grown, h
	case h >= a.hourFrom+len(a.hours):
		grown := make([]hourStat, h-a.hourFrom+1)
		copy(grown, a.hours)
		a.hours = grown
	}
	return &a.hours[h-a.hourFrom]
}

// hourAt returns the slot of hour h, nil if a has none.
func (a *Analog) hourAt(h int) *hourStat {
	if i := h - a.hourFrom; i >= 0 && i < len(a.hours) && a.hours[i].count > 0 {
		return &a.hours[i]
	}
	return nil
}

// hourList returns a's hours as Hours are written.
func (a *Analog) hourList() []*Hour {
	if a.hours == nil {
		return a.Hours
	}
	out := make([]*Hour, hoursPerDay)
	for h := range out {
		if x := a.hourAt(h); x != nil {
			out[h] = x.hour()
		}
	}
	return out
}

// Discrete states, from best to worst.
const (
	StateOK          = "ok"
	StateCommsLost   = "comms-lost"
	StateSensorFault = "sensor-fault"
	StateAlarm       = "alarm"
)

func stateRank(s string) int {
	switch s {
	case StateOK:
		return 1
	case StateCommsLost:
		return 2
	case StateSensorFault:
		return 3
	case StateAlarm:
		return 4
	}
	return 0
}

// Discrete is one bool sensor's day (spd_fault, water_leak, smoke).
type Discrete struct {
	Worst        string     `json:"worst"`
	Last         string     `json:"last"`
	AlarmCount   int        `json:"alarm_count"`
	FirstAlarmAt *time.Time `json:"first_alarm_at,omitempty"`
	AlarmS       float64    `json:"alarm_s"`
}

// Door is a door contact's day.
type Door struct {
	Openings     int        `json:"openings"`
	AfterHours   int        `json:"after_hours"`
	OpenS        float64    `json:"open_s"`
	LastOpenedAt *time.Time `json:"last_opened_at,omitempty"`
	Open         bool       `json:"open"`
}

// Mains is a UPS's mains-loss episodes (on_battery).
type Mains struct {
	Episodes  []Episode `json:"episodes"`
	BatteryS  float64   `json:"battery_s"`
	OnBattery bool      `json:"on_battery"`
}

// Episode is one stretch on battery. End is nil while it lasts;
// Continued says it began the day before, Continues that it went on past
// midnight.
type Episode struct {
	Start     time.Time  `json:"start"`
	End       *time.Time `json:"end,omitempty"`
	DurationS float64    `json:"duration_s"`
	Continued bool       `json:"continued,omitempty"`
	Continues bool       `json:"continues,omitempty"`
}

// AlarmEntry is one alarm of the day, as last seen.
type AlarmEntry struct {
	ID          string            `json:"id"`
	Fingerprint string            `json:"fingerprint"`
	Rule        string            `json:"rule"`
	Severity    alerts.Severity   `json:"severity"`
	State       alerts.State      `json:"state"`
	Device      string            `json:"device,omitempty"`
	StartedAt   time.Time         `json:"started_at"`
	EndedAt     *time.Time        `json:"ended_at,omitempty"`
	AckBy       string            `json:"ack_by,omitempty"`
	AckAt       *time.Time        `json:"ack_at,omitempty"`
	AckVia      string            `json:"ack_via,omitempty"`  // cli, sms, patrol, wecom
	AckNote     string            `json:"ack_note,omitempty"` // the comment given
	Text        map[string]string `json:"text,omitempty"`
	// Told is who was told of the alarm, from the notifier's delivery
	// records (alerts.Delivery), in the order they came.
	Told []Told `json:"told,omitempty"`
}

// Told is one notification of an alarm to one person through one
// channel, as its latest delivery record says.
type Told struct {
	Delivery string    `json:"delivery"` // the notification's id
	Kind     string    `json:"kind"`     // firing, resolved, escalation, repeat…
	Level    int       `json:"level,omitempty"`
	Person   string    `json:"person,omitempty"`
	Channel  string    `json:"channel"`
	Result   string    `json:"result"` // sent, failed, unknown, dead, delivered
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
}

func newRecord(site, room string, day time.Time, loc *time.Location) *Record {
	return &Record{
		Schema: Schema, V: V, Site: site, Room: room,
		Date: day.Format(time.DateOnly), TZ: loc.String(),
		From: day, To: day.AddDate(0, 0, 1),
		Devices: map[string]*DeviceDay{},
	}
}

// summarize recomputes Summary and the derived fields (means,
// availability, open episode durations).
func (r *Record) summarize() {
	s := Summary{Devices: len(r.Devices), MinAvailability: 1}
	for _, d := range r.Devices {
		d.Availability = 1
		if d.Polls > 0 {
			d.Availability = float64(d.PollsOK) / float64(d.Polls)
		}
		s.MinAvailability = min(s.MinAvailability, d.Availability)
		s.CommsLostS += d.CommsLostS
		for _, a := range d.Analog {
			if a.Count > 0 {
				a.Mean = a.Sum / float64(a.Count)
			}
			for _, h := range a.Hours {
				if h != nil && h.Count > 0 {
					h.Mean = h.Sum / float64(h.Count)
				}
			}
			s.OutOfRangeS += a.OutOfRangeS
		}
		for name, x := range d.Discrete {
			if s.Discrete == nil {
				s.Discrete = map[string]string{}
			}
			if stateRank(x.Worst) > stateRank(s.Discrete[name]) {
				s.Discrete[name] = x.Worst
			}
		}
		if d.Door != nil {
			s.DoorOpenings += d.Door.Openings
			s.AfterHoursOpenings += d.Door.AfterHours
		}
		if d.Mains != nil {
			for i := range d.Mains.Episodes {
				e := &d.Mains.Episodes[i]
				if e.End == nil {
					e.DurationS = max(0, d.LastPollAt.Sub(e.Start).Seconds())
				}
				if !e.Continued {
					s.MainsLossEpisodes++
				}
			}
			s.MainsLossS += d.Mains.BatteryS
			s.OnBattery = s.OnBattery || d.Mains.OnBattery
		}
	}
	for _, a := range r.Alarms {
		s.Alarms++
		if a.State != alerts.Resolved {
			s.ActiveAlarms++
		}
		if a.AckAt == nil {
			s.UnacknowledgedAlarm++
		}
	}
	r.Summary = s
}

// Marshal recomputes the summary and encodes the record.
func (r *Record) Marshal() ([]byte, error) {
	var w jsonBuf
	return r.marshalTo(&w)
}

// marshalTo recomputes the summary and encodes the record into w's
// buffer, which the result shares until w's next use.
func (r *Record) marshalTo(w *jsonBuf) ([]byte, error) {
	r.summarize()
	return w.record(r)
}

// Unmarshal decodes a record and checks its schema.
func Unmarshal(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("daily record: decode: %w", err)
	}
	if r.Schema != Schema || r.V != V {
		return nil, fmt.Errorf("daily record %s/%s/%s: schema %q v %d, want %q v %d", r.Site, r.Room, r.Date, r.Schema, r.V, Schema, V)
	}
	if r.Site == "" || r.Room == "" || r.Date == "" {
		return nil, fmt.Errorf("daily record: site, room or date missing")
	}
	if r.Devices == nil {
		r.Devices = map[string]*DeviceDay{}
	}
	return &r, nil
}

// clone returns a deep copy of r (through JSON: records are small and
// cloned only for readers).
func (r *Record) clone() *Record {
	data, err := r.Marshal()
	if err != nil {
		panic(err) // a Record always encodes
	}
	c, err := Unmarshal(data)
	if err != nil {
		panic(err)
	}
	return c
}

func (r *Record) key() string { return alerts.DailyKey(r.Site, r.Room, r.Date) }

func (r *Record) subject() string { return alerts.DailySubject(r.Site, r.Room, r.Date) }

func (r *Record) String() string {
	return strings.Join([]string{r.Site, r.Room, r.Date}, "/")
}
