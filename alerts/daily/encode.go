package daily

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/roomwatch/roomwatch/collectors"
)

// The record's JSON form is written by hand rather than by encoding/json:
// a room's record holds ten thousand numbers by the evening (24 hours of
// statistics per analog value), every room's record is encoded at every
// flush, and encoding/json spent most of its time re-reading the output
// of the MarshalJSON methods nested four deep (Record, DeviceDay, Analog,
// Hour). The output is byte for byte what json.Marshal writes through
// those methods (TestEncodeLikeEncodingJSON holds them together), so the
// struct tags and the MarshalJSON methods remain the definition of the
// form.

// jsonBuf appends a record's JSON form to b, reusing its space from one
// record to the next.
type jsonBuf struct {
	b []byte
	// keys is scratch space for sorting map keys, used as a stack by
	// nested maps.
	keys []string
	// err is the first value JSON cannot carry (a NaN or infinite
	// number, a time beyond year 9999).
	err error
}

// record replaces the buffer's content with r's JSON form; r's summary
// must be up to date.
func (w *jsonBuf) record(r *Record) ([]byte, error) {
	w.b, w.err = w.b[:0], nil
	w.b = append(w.b, '{')
	w.field("schema")
	w.str(r.Schema)
	w.field("v")
	w.int(r.V)
	w.field("site")
	w.str(r.Site)
	w.field("room")
	w.str(r.Room)
	w.field("date")
	w.str(r.Date)
	w.field("tz")
	w.str(r.TZ)
	w.field("from")
	w.time(r.From)
	w.field("to")
	w.time(r.To)
	w.field("updated_at")
	w.time(r.UpdatedAt)
	w.field("summary")
	w.summary(&r.Summary)
	w.field("devices")
	writeMap(w, r.Devices, (*jsonBuf).deviceDay)
	w.field("alarms")
	if r.Alarms == nil {
		w.null()
	} else {
		w.b = append(w.b, '[')
		for i := range r.Alarms {
			w.comma(i)
			w.alarm(&r.Alarms[i])
		}
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}')
	return w.b, w.err
}

func (w *jsonBuf) summary(s *Summary) {
	w.b = append(w.b, '{')
	w.field("devices")
	w.int(s.Devices)
	w.field("door_openings")
	w.int(s.DoorOpenings)
	w.field("after_hours_openings")
	w.int(s.AfterHoursOpenings)
	w.field("mains_loss_episodes")
	w.int(s.MainsLossEpisodes)
	w.field("mains_loss_s")
	w.float(secs(s.MainsLossS))
	w.field("on_battery")
	w.bool(s.OnBattery)
	w.field("out_of_range_s")
	w.float(secs(s.OutOfRangeS))
	w.field("comms_lost_s")
	w.float(secs(s.CommsLostS))
	w.field("min_availability")
	w.float(roundTo(s.MinAvailability, 4))
	w.field("alarms")
	w.int(s.Alarms)
	w.field("active_alarms")
	w.int(s.ActiveAlarms)
	w.field("unacknowledged_alarms")
	w.int(s.UnacknowledgedAlarm)
	if len(s.Discrete) > 0 {
		w.field("discrete")
		writeMap(w, s.Discrete, (*jsonBuf).str)
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) deviceDay(d *DeviceDay) {
	if d == nil {
		w.null()
		return
	}
	w.b = append(w.b, '{')
	w.optStr("profile", d.Profile)
	w.optStr("class", d.Class)
	w.field("polls")
	w.int(d.Polls)
	w.field("polls_ok")
	w.int(d.PollsOK)
	w.field("availability")
	w.float(roundTo(d.Availability, 4))
	w.field("comms_lost_s")
	w.float(secs(d.CommsLostS))
	w.field("first_poll_at")
	w.time(d.FirstPollAt)
	w.field("last_poll_at")
	w.time(d.LastPollAt)
	if d.LastOKAt != nil {
		w.field("last_ok_at")
		w.time(*d.LastOKAt)
	}
	w.field("reachable")
	w.bool(d.Reachable)
	if len(d.Analog) > 0 {
		w.field("analog")
		writeMap(w, d.Analog, (*jsonBuf).analog)
	}
	if len(d.Discrete) > 0 {
		w.field("discrete")
		writeMap(w, d.Discrete, (*jsonBuf).discrete)
	}
	if d.Door != nil {
		w.field("door")
		w.door(d.Door)
	}
	if d.Mains != nil {
		w.field("mains")
		w.mains(d.Mains)
	}
	if len(d.Last) > 0 {
		w.field("last")
		w.b = append(w.b, '[')
		for i := range d.Last {
			w.comma(i)
			w.value(&d.Last[i])
		}
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) analog(a *Analog) {
	if a == nil {
		w.null()
		return
	}
	w.b = append(w.b, '{')
	w.optStr("unit", a.Unit)
	w.field("count")
	w.int(a.Count)
	w.field("sum")
	w.float(a.Sum)
	w.field("min")
	w.float(a.Min)
	w.field("max")
	w.float(a.Max)
	w.field("mean")
	w.float(roundTo(a.Mean, 2))
	w.field("last")
	w.float(a.Last)
	for _, t := range [...]struct {
		name string
		at   time.Time
	}{{"min_at", a.MinAt}, {"max_at", a.MaxAt}, {"last_at", a.LastAt}} {
		if !t.at.IsZero() {
			w.field(t.name)
			w.time(t.at)
		}
	}
	w.field("faults")
	w.int(a.Faults)
	if a.Range != nil {
		w.field("range")
		w.rng(a.Range)
	}
	w.field("out_of_range_s")
	w.float(secs(a.OutOfRangeS))
	w.field("excursions")
	w.int(a.Excursions)
	switch {
	case len(a.hours) > 0:
		w.field("hours")
		w.b = append(w.b, '[')
		for h := range hoursPerDay {
			w.comma(h)
			w.hourStat(a.hourAt(h))
		}
		w.b = append(w.b, ']')
	case len(a.Hours) > 0:
		w.field("hours")
		w.b = append(w.b, '[')
		for i, h := range a.Hours {
			w.comma(i)
			w.hour(h)
		}
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) rng(r *Range) {
	w.b = append(w.b, '{')
	if r.Min != nil {
		w.field("min")
		w.float(*r.Min)
	}
	if r.Max != nil {
		w.field("max")
		w.float(*r.Max)
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) hour(h *Hour) {
	if h == nil {
		w.null()
		return
	}
	w.hourFields(h.Count, h.Sum, h.Min, h.Max, h.Mean, h.Last)
}

// hourStat writes x as the Hour it stands for, null for nil.
func (w *jsonBuf) hourStat(x *hourStat) {
	if x == nil {
		w.null()
		return
	}
	w.hourFields(x.count, x.sum, x.min, x.max, x.sum/float64(x.count), x.last)
}

func (w *jsonBuf) hourFields(count int, sum, lo, hi, mean, last float64) {
	w.b = append(w.b, `{"count":`...)
	w.int(count)
	w.field("sum")
	w.float(sum)
	w.field("min")
	w.float(lo)
	w.field("max")
	w.float(hi)
	w.field("mean")
	w.float(roundTo(mean, 2))
	w.field("last")
	w.float(last)
	w.b = append(w.b, '}')
}

func (w *jsonBuf) discrete(x *Discrete) {
	if x == nil {
		w.null()
		return
	}
	w.b = append(w.b, '{')
	w.field("worst")
	w.str(x.Worst)
	w.field("last")
	w.str(x.Last)
	w.field("alarm_count")
	w.int(x.AlarmCount)
	if x.FirstAlarmAt != nil {
		w.field("first_alarm_at")
		w.time(*x.FirstAlarmAt)
	}
	w.field("alarm_s")
	w.float(secs(x.AlarmS))
	w.b = append(w.b, '}')
}

func (w *jsonBuf) door(d *Door) {
	w.b = append(w.b, '{')
	w.field("openings")
	w.int(d.Openings)
	w.field("after_hours")
	w.int(d.AfterHours)
	w.field("open_s")
	w.float(secs(d.OpenS))
	if d.LastOpenedAt != nil {
		w.field("last_opened_at")
		w.time(*d.LastOpenedAt)
	}
	w.field("open")
	w.bool(d.Open)
	w.b = append(w.b, '}')
}

func (w *jsonBuf) mains(m *Mains) {
	w.b = append(w.b, '{')
	w.field("episodes")
	if m.Episodes == nil {
		w.null()
	} else {
		w.b = append(w.b, '[')
		for i := range m.Episodes {
			w.comma(i)
			w.episode(&m.Episodes[i])
		}
		w.b = append(w.b, ']')
	}
	w.field("battery_s")
	w.float(secs(m.BatteryS))
	w.field("on_battery")
	w.bool(m.OnBattery)
	w.b = append(w.b, '}')
}

func (w *jsonBuf) episode(e *Episode) {
	w.b = append(w.b, '{')
	w.field("start")
	w.time(e.Start)
	if e.End != nil {
		w.field("end")
		w.time(*e.End)
	}
	w.field("duration_s")
	w.float(secs(e.DurationS))
	if e.Continued {
		w.field("continued")
		w.bool(true)
	}
	if e.Continues {
		w.field("continues")
		w.bool(true)
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) value(v *collectors.Value) {
	w.b = append(w.b, '{')
	w.field("name")
	w.str(v.Name)
	w.optStr("unit", v.Unit)
	w.field("kind")
	w.str(v.Kind.String())
	w.field("num")
	w.float(v.Num)
	w.optStr("str", v.Str)
	w.field("quality")
	w.str(v.Quality.String())
	w.optStr("err", v.Err)
	w.b = append(w.b, '}')
}

func (w *jsonBuf) alarm(a *AlarmEntry) {
	w.b = append(w.b, '{')
	w.field("id")
	w.str(a.ID)
	w.field("fingerprint")
	w.str(a.Fingerprint)
	w.field("rule")
	w.str(a.Rule)
	w.field("severity")
	w.str(string(a.Severity))
	w.field("state")
	w.str(string(a.State))
	w.optStr("device", a.Device)
	w.field("started_at")
	w.time(a.StartedAt)
	if a.EndedAt != nil {
		w.field("ended_at")
		w.time(*a.EndedAt)
	}
	w.optStr("ack_by", a.AckBy)
	if a.AckAt != nil {
		w.field("ack_at")
		w.time(*a.AckAt)
	}
	w.optStr("ack_via", a.AckVia)
	w.optStr("ack_note", a.AckNote)
	if len(a.Text) > 0 {
		w.field("text")
		writeMap(w, a.Text, (*jsonBuf).str)
	}
	if len(a.Told) > 0 {
		w.field("told")
		w.b = append(w.b, '[')
		for i := range a.Told {
			w.comma(i)
			w.told(&a.Told[i])
		}
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}')
}

func (w *jsonBuf) told(t *Told) {
	w.b = append(w.b, '{')
	w.field("delivery")
	w.str(t.Delivery)
	w.field("kind")
	w.str(t.Kind)
	if t.Level != 0 {
		w.field("level")
		w.int(t.Level)
	}
	w.optStr("person", t.Person)
	w.field("channel")
	w.str(t.Channel)
	w.field("result")
	w.str(t.Result)
	w.field("attempt")
	w.int(t.Attempt)
	w.field("at")
	w.time(t.At)
	w.b = append(w.b, '}')
}

// writeMap writes m with its keys sorted, as encoding/json does; nil is
// null.
func writeMap[V any](w *jsonBuf, m map[string]V, val func(*jsonBuf, V)) {
	if m == nil {
		w.null()
		return
	}
	base := len(w.keys)
	for k := range m {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys[base:])
	w.b = append(w.b, '{')
	// Nested maps push their keys above ours and pop them before
	// returning, so len(w.keys) is ours again at every step.
	for i := base; i < len(w.keys); i++ {
		w.comma(i - base)
		k := w.keys[i]
		w.str(k)
		w.b = append(w.b, ':')
		val(w, m[k])
	}
	clear(w.keys[base:])
	w.keys = w.keys[:base]
	w.b = append(w.b, '}')
}

// field starts a member called name (plain ASCII), after a comma unless
// it is the object's first.
func (w *jsonBuf) field(name string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// optStr writes a member with omitempty: only when s is not empty.
func (w *jsonBuf) optStr(name, s string) {
	if s != "" {
		w.field(name)
		w.str(s)
	}
}

// comma separates element i of an array or map from the one before.
func (w *jsonBuf) comma(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
}

func (w *jsonBuf) null() { w.b = append(w.b, "null"...) }

func (w *jsonBuf) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *jsonBuf) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// float writes f as encoding/json does (ES6 number formatting); JSON has
// no NaN or infinity, so those are an error, as there.
func (w *jsonBuf) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64)))
		w.b = append(w.b, '0')
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if n := len(w.b); format == 'e' && n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
		w.b[n-2] = w.b[n-1] // e-09 → e-9
		w.b = w.b[:n-1]
	}
}

// time writes t as time.Time's MarshalJSON does.
func (w *jsonBuf) time(t time.Time) {
	w.b = append(w.b, '"')
	b, err := t.AppendText(w.b)
	if err != nil {
		w.fail(fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err))
	} else {
		w.b = b
	}
	w.b = append(w.b, '"')
}

func (w *jsonBuf) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// str writes s as a JSON string the way encoding/json does: <, > and &
// escaped for HTML, invalid UTF-8 replaced, U+2028 and U+2029 escaped.
func (w *jsonBuf) str(s string) {
	const hex = "0123456789abcdef"
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
}
