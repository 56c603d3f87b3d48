// Package collectors polls machine-room devices and turns what they answer
// into SampleSets: the one data model that the InfluxDB writer, the rules
// engine and the daily inspection record consume.
//
// A protocol package (collectors/snmp, collectors/modbus) implements Poller
// for one device; the Scheduler runs every Poller on its own interval with
// jitter, a per-poll deadline and bounded concurrency, and hands each
// SampleSet to a caller-supplied sink.
package collectors

import (
	"context"
	"fmt"
	"time"
)

// Quality says whether a value can be trusted.
type Quality int

// Qualities, from best to worst.
const (
	// Good: the device answered and the value decoded within range.
	Good Quality = iota
	// SensorFault: the device answered, but the value is a
	// "sensor disconnected" sentinel, out of its valid range, the wrong
	// type, or missing (noSuchObject, Modbus exception).
	SensorFault
	// CommsLost: the device did not answer at all.
	CommsLost
)

var qualityNames = [...]string{Good: "good", SensorFault: "sensor-fault", CommsLost: "comms-lost"}

func (q Quality) String() string {
	if q < 0 || int(q) >= len(qualityNames) {
		return fmt.Sprintf("Quality(%d)", int(q))
	}
	return qualityNames[q]
}

// MarshalText encodes a Quality as its name.
func (q Quality) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText decodes a Quality from its name.
func (q *Quality) UnmarshalText(b []byte) error {
	for i, n := range qualityNames {
		if n == string(b) {
			*q = Quality(i)
			return nil
		}
	}
	return fmt.Errorf("unknown quality %q", b)
}

// Kind is the type of a decoded value.
type Kind int

// Kinds of value.
const (
	// Number is a scaled measurement (Value.Num).
	Number Kind = iota
	// Bool is a state such as door_open or on_battery (Value.Num is 0 or 1).
	Bool
	// Enum is a code with a label, e.g. battery_status "low"
	// (Value.Str is the label, Value.Num the raw code).
	Enum
	// Text is a string such as a model name (Value.Str).
	Text
)

var kindNames = [...]string{Number: "number", Bool: "bool", Enum: "enum", Text: "text"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// MarshalText encodes a Kind as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a Kind from its name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown value kind %q", b)
}

// Value is one named reading of a poll. Canonical names carry their unit
// (temperature_c, runtime_min, on_battery).
type Value struct {
	Name    string  `json:"name"`
	Unit    string  `json:"unit,omitempty"`
	Kind    Kind    `json:"kind"`
	Num     float64 `json:"num"`
	Str     string  `json:"str,omitempty"`
	Quality Quality `json:"quality"`
	// Err says why Quality is not Good, naming the OID or register.
	Err string `json:"err,omitempty"`
}

// Any returns the value as a float64, bool or string, the form rule
// expressions and JSON consumers see. It is meaningful only when Quality
// is Good.
func (v Value) Any() any {
	switch v.Kind {
	case Bool:
		return v.Num != 0
	case Enum, Text:
		return v.Str
	default:
		return v.Num
	}
}

// Device identifies where a SampleSet comes from.
type Device struct {
	Site    string `json:"site"`
	Room    string `json:"room"`
	Name    string `json:"device"`
	Profile string `json:"profile"`
	// Class is the profile's device class (ups, env, di), used as the
	// InfluxDB measurement.
	Class  string            `json:"class,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ID is the device's unique key: site/room/device.
func (d Device) ID() string { return d.Site + "/" + d.Room + "/" + d.Name }

// DeviceKey identifies a device as ID does, as a comparable value: a map
// key that costs no string to build for every sample set.
type DeviceKey struct{ Site, Room, Name string }

// Key is d's DeviceKey.
func (d *Device) Key() DeviceKey { return DeviceKey{d.Site, d.Room, d.Name} }

// Polled is d as a poller of a profile reports it: the profile's device
// class set, and its name unless the configuration named one.
func (d Device) Polled(class, profile string) Device {
	d.Class = class
	if d.Profile == "" {
		d.Profile = profile
	}
	return d
}

// SampleSet is the result of one poll of one device. A failed poll is data
// too: it carries Err and every value with Quality CommsLost.
type SampleSet struct {
	Device Device `json:"device"`
	// Time is when the poll started.
	Time time.Time `json:"time"`
	// Duration is how long the poll took.
	Duration time.Duration `json:"duration"`
	Values   []Value       `json:"values"`
	// Err is the poll-level error (device unreachable, timeout), empty on
	// success even if some values are SensorFault.
	Err string `json:"err,omitempty"`
}

// Get returns the value called name.
func (s *SampleSet) Get(name string) (Value, bool) {
	for _, v := range s.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{}, false
}

// UniqueNames reports whether no two of vs have the same name.
func UniqueNames(vs []Value) bool {
	for i := range vs {
		for j := i + 1; j < len(vs); j++ {
			if vs[i].Name == vs[j].Name {
				return false
			}
		}
	}
	return true
}

// Reachable reports whether the device answered.
func (s *SampleSet) Reachable() bool { return s.Err == "" }

// Failed returns a SampleSet for a poll that got no answer: every value
// the profile declares is present with Quality CommsLost, so consumers see
// the gap instead of silence.
func Failed(dev Device, start time.Time, took time.Duration, names []ValueSpec, err error) SampleSet {
	s := SampleSet{Device: dev, Time: start, Duration: took, Err: err.Error()}
	s.Values = make([]Value, len(names))
	for i, n := range names {
		s.Values[i] = Value{Name: n.Name, Unit: n.Unit, Kind: n.Kind, Quality: CommsLost, Err: s.Err}
	}
	return s
}

// ValueSpec is the name, unit and kind of a value a profile yields.
type ValueSpec struct {
	Name string
	Unit string
	Kind Kind
}

// Poller polls one device. New* constructors validate without network
// I/O; Poll does I/O under ctx (which carries the poll's deadline).
type Poller interface {
	// Poll reads the device once. On failure it returns a comms-lost
	// SampleSet together with the error.
	Poll(ctx context.Context) (SampleSet, error)
	// Close releases the connection.
	Close() error
}

// DeviceConfig is one configured device: who it is, how to reach it, and
// how to poll it.
type DeviceConfig struct {
	Device Device
	Target Target
	// Interval between polls.
	Interval time.Duration
	// Timeout is the total deadline of one poll, retries included.
	Timeout time.Duration
	// Retries is how many times a failed request is repeated within
	// Timeout.
	Retries int
	// Invert lists bool values to flip (normally-closed contacts).
	Invert []string
}

// Inverted reports whether the value called name is to be flipped.
func (c *DeviceConfig) Inverted(name string) bool {
	for _, n := range c.Invert {
		if n == name {
			return true
		}
	}
	return false
}
