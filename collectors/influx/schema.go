package influx

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

// The InfluxDB schema. Every SampleSet becomes two points with the same
// tags and timestamp (SampleSet.Time, the poll start):
//
// Measurement "roomwatch_<class>" (roomwatch_ups, roomwatch_env,
// roomwatch_di; "roomwatch_device" when the profile names no class) holds
// the values. The prefix keeps roomwatch's data apart from Telegraf's in a
// shared database.
//
// Tags: site, room, device, profile, class, plus every device label
// (a label named like a fixed tag is written as label_<name>). Tag keys
// are sorted, as InfluxDB prefers; empty tags are left out.
//
// Fields, one per value with Quality Good, named by the canonical value
// name which carries its unit (temperature_c, runtime_min, load_pct):
//   - Number: float (temperature_c=23.5)
//   - Bool:   boolean (door_open=true)
//   - Enum:   string label plus the raw code as float <name>_code
//     (battery_status="low",battery_status_code=3)
//   - Text:   string
//
// A value that is not Good is never written as a number: its field is left
// out (so a graph shows a gap, not a fake zero) and a string field
// <name>_quality says why ("sensor-fault" or "comms-lost"). A NaN or
// infinite number, which line protocol cannot carry, is written as
// <name>_quality="invalid".
//
// Measurement "roomwatch_poll" records the health of every poll, with the
// same tags: duration_s (float), reachable (boolean), values (integer: how
// many values the poll yielded), bad_values (integer: how many were not
// Good) and, when the poll failed, error (string).
const (
	measurementPrefix = "roomwatch_"
	pollMeasurement   = "roomwatch_poll"
)

var precisions = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
}

// precisionUnit is the unit of precision p, or an error naming the
// precisions there are.
func precisionUnit(p string) (time.Duration, error) {
	u, ok := precisions[p]
	if !ok {
		return 0, fmt.Errorf("precision %q is not one of ns, us, ms, s", p)
	}
	return u, nil
}

var fixedTags = map[string]bool{"site": true, "room": true, "device": true, "profile": true, "class": true}

// tagPair is one tag, unescaped.
type tagPair struct{ k, v string }

// encoder appends SampleSets as line protocol with timestamps in unit
// nanoseconds (rounded down, as time.Time's UnixMilli does; 0 or 1:
// nanoseconds), the precision the Writer writes. It reuses its scratch
// space and keeps each device's series key (its measurement and escaped,
// sorted tags), which are the same in every poll. It is not safe for
// concurrent use.
type encoder struct {
	unit   int64
	tags   []tagPair
	series map[collectors.DeviceKey]*series
	// appends counts the sets appended since the last sweep of series.
	appends int
}

// series is one device's cached series key, valid while the device's
// profile, class and labels are the ones it was made from.
type series struct {
	profile, class string
	labels         map[string]string
	// head is the values' measurement and the tags; tags is its tag part
	// (",k=v..." escaped), shared with the poll measurement.
	head, tags []byte
	used       bool
}

// sweepEvery is the number of sets appended between two sweeps of the
// series cache for an encoder that knows n devices: each sweep drops the
// series of devices not seen since the previous one (removed by a
// reload), so the cache stays the size of the polled devices.
func sweepEvery(n int) int { return max(1024, 4*n) }

// seriesOf returns d's series key, making it on first use or when d's
// profile, class or labels changed.
func (e *encoder) seriesOf(d *collectors.Device) *series {
	id := d.Key()
	sr := e.series[id]
	if sr == nil || sr.profile != d.Profile || sr.class != d.Class || !maps.Equal(sr.labels, d.Labels) {
		if e.series == nil {
			e.series = make(map[collectors.DeviceKey]*series)
		}
		sr = e.newSeries(d)
		e.series[id] = sr
	}
	sr.used = true
	if e.appends++; e.appends >= sweepEvery(len(e.series)) {
		e.appends = 0
		for id, x := range e.series {
			if !x.used {
				delete(e.series, id)
			}
			x.used = false
		}
		sr.used = true
	}
	return sr
}

// newSeries makes d's series key.
func (e *encoder) newSeries(d *collectors.Device) *series {
	e.tags = e.tags[:0]
	e.tags = append(e.tags, tagPair{"site", d.Site}, tagPair{"room", d.Room}, tagPair{"device", d.Name},
		tagPair{"profile", d.Profile}, tagPair{"class", d.Class})
	for k, v := range d.Labels {
		if fixedTags[k] {
			k = "label_" + k
		}
		e.tags = append(e.tags, tagPair{k, v})
	}
	slices.SortFunc(e.tags, func(a, b tagPair) int { return strings.Compare(a.k, b.k) })
	class := d.Class
	if class == "" {
		class = "device"
	}
	head := appendMeasurement([]byte(measurementPrefix), class)
	n := len(head)
	head = e.appendTags(head)
	return &series{profile: d.Profile, class: d.Class, labels: maps.Clone(d.Labels),
		head: head, tags: head[n:len(head):len(head)]}
}

// Append appends the lines of s (each ending in '\n') to b and returns
// the extended buffer and how many lines it appended.
func (e *encoder) Append(b []byte, s *collectors.SampleSet) ([]byte, int) {
	sr := e.seriesOf(&s.Device)
	ts := s.Time.UnixNano()
	if e.unit > 1 {
		ts = floorDiv(ts, e.unit)
	}
	n := 0

	// The values.
	if len(s.Values) > 0 {
		start := len(b)
		b = append(b, sr.head...)
		b = append(b, ' ')
		first := true
		sep := func() {
			if !first {
				b = append(b, ',')
			}
			first = false
		}
		for i := range s.Values {
			v := &s.Values[i]
			if v.Name == "" {
				continue
			}
			if v.Quality != collectors.Good {
				sep()
				b = appendKey(b, v.Name)
				b = append(b, "_quality="...)
				b = appendString(b, v.Quality.String())
				continue
			}
			switch v.Kind {
			case collectors.Bool:
				sep()
				b = appendKey(b, v.Name)
				if v.Num != 0 {
					b = append(b, "=true"...)
				} else {
					b = append(b, "=false"...)
				}
			case collectors.Enum:
				sep()
				b = appendKey(b, v.Name)
				b = append(b, '=')
				b = appendString(b, v.Str)
				if finite(v.Num) {
					b = append(b, ',')
					b = appendKey(b, v.Name)
					b = append(b, "_code="...)
					b = strconv.AppendFloat(b, v.Num, 'f', -1, 64)
				}
			case collectors.Text:
				sep()
				b = appendKey(b, v.Name)
				b = append(b, '=')
				b = appendString(b, v.Str)
			default:
				sep()
				b = appendKey(b, v.Name)
				if !finite(v.Num) {
					b = append(b, `_quality="invalid"`...)
					continue
				}
				b = append(b, '=')
				b = strconv.AppendFloat(b, v.Num, 'f', -1, 64)
			}
		}
		if first {
			b = b[:start] // no field at all
		} else {
			b = append(b, ' ')
			b = strconv.AppendInt(b, ts, 10)
			b = append(b, '\n')
			n++
		}
	}

	// The poll's health.
	bad := 0
	for i := range s.Values {
		if s.Values[i].Quality != collectors.Good {
			bad++
		}
	}
	b = append(b, pollMeasurement...)
	b = append(b, sr.tags...)
	b = append(b, " duration_s="...)
	b = strconv.AppendFloat(b, s.Duration.Seconds(), 'f', -1, 64)
	b = append(b, ",reachable="...)
	b = strconv.AppendBool(b, s.Reachable())
	b = append(b, ",values="...)
	b = strconv.AppendInt(b, int64(len(s.Values)), 10)
	b = append(b, "i,bad_values="...)
	b = strconv.AppendInt(b, int64(bad), 10)
	b = append(b, 'i')
	if s.Err != "" {
		b = append(b, ",error="...)
		b = appendString(b, s.Err)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	return b, n + 1
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func (e *encoder) appendTags(b []byte) []byte {
	for _, t := range e.tags {
		if t.k == "" || t.v == "" {
			continue
		}
		b = append(b, ',')
		b = appendKey(b, t.k)
		b = append(b, '=')
		b = appendKey(b, t.v)
	}
	return b
}

// appendMeasurement escapes commas and spaces.
func appendMeasurement(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', ' ':
			b = append(b, '\\', c)
		case '\n', '\r', '\t':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendKey escapes a tag key, tag value or field key: commas, equal
// signs and spaces. Line breaks, which line protocol cannot carry, become
// spaces (escaped); a trailing backslash is doubled.
func appendKey(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', '=', ' ':
			b = append(b, '\\', c)
		case '\n', '\r', '\t':
			b = append(b, '\\', ' ')
		case '\\':
			if i == len(s)-1 {
				b = append(b, '\\', '\\')
			} else {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendString writes a quoted string field value, escaping " and \;
// line breaks become spaces.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n', '\r':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
