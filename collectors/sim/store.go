// Package sim holds the state of simulated devices: the values that the
// SNMP agent and Modbus server simulators (the sub-packages snmpsim and
// modbussim) serve, and an HTTP control surface to change them
// while running — a power cut, a hot room, an open door.
package sim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Store holds the simulated devices' current values. It is safe for
// concurrent use.
type Store struct {
	mu      sync.RWMutex
	devices map[string]*device
}

type device struct {
	profile *profiles.Profile
	invert  map[string]bool
	raw     map[string]float64
	text    map[string]string
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{devices: map[string]*device{}} }

// Add registers a simulated device serving profile p, every value at the
// profile's default (Field.Sim, or zero). invert lists bool values wired
// normally-closed on this device, so they are sent inverted.
func (s *Store) Add(name string, p *profiles.Profile, invert ...string) error {
	d := &device{profile: p, invert: map[string]bool{}, raw: map[string]float64{}, text: map[string]string{}}
	for _, n := range invert {
		d.invert[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.devices[name]; ok {
		return fmt.Errorf("simulated device %q added twice", name)
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		text := f.Sim
		if text == "" { // no sim: default; an enum's empty text is its lowest code
			switch f.Kind() {
			case collectors.Bool:
				text = "false"
			case collectors.Number:
				text = "0"
			}
		}
		if err := d.set(f, text); err != nil {
			return fmt.Errorf("profile %s: default: %w", p.Name, err)
		}
	}
	s.devices[name] = d
	return nil
}

// Devices lists the simulated devices, sorted.
func (s *Store) Devices() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namesLocked()
}

// Profile returns the profile a device serves, or nil.
func (s *Store) Profile(device string) *profiles.Profile {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d, ok := s.devices[device]; ok {
		return d.profile
	}
	return nil
}

// Raw returns the raw number the device sends for field (before the
// profile's scale, offset or enum mapping).
func (s *Store) Raw(device, field string) (float64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.devices[device]
	if !ok {
		return 0, false
	}
	v, ok := d.raw[field]
	return v, ok
}

// Text returns the string an OCTET STRING field sends.
func (s *Store) Text(device, field string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.devices[device]
	if !ok {
		return "", false
	}
	v, ok := d.text[field]
	return v, ok
}

// Set changes a field to a decoded value typed as text ("28.5", "true",
// "low"); the raw wire value follows from the profile.
func (s *Store) Set(device, field, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, f, err := s.lookup(device, field)
	if err != nil {
		return err
	}
	return d.set(f, text)
}

// SetRaw sets the raw wire value directly, e.g. a "sensor disconnected"
// sentinel such as 0x7FFF.
func (s *Store) SetRaw(device, field string, raw float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _, err := s.lookup(device, field)
	if err != nil {
		return err
	}
	d.raw[field] = raw
	return nil
}

// Values returns every device's fields as decoded text, for display.
func (s *Store) Values() map[string]map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string]string{}
	for name, d := range s.devices {
		m := map[string]string{}
		for i := range d.profile.Fields {
			f := &d.profile.Fields[i]
			if t, ok := d.text[f.Name]; ok {
				m[f.Name] = t
				continue
			}
			v := f.Convert(d.raw[f.Name], d.invert[f.Name], "sim")
			if v.Quality != collectors.Good {
				m[f.Name] = v.Quality.String()
				continue
			}
			m[f.Name] = fmt.Sprint(v.Any())
		}
		out[name] = m
	}
	return out
}

func (s *Store) lookup(device, field string) (*device, *profiles.Field, error) {
	d, ok := s.devices[device]
	if !ok {
		return nil, nil, fmt.Errorf("no simulated device %q (have %s)", device, strings.Join(s.namesLocked(), ", "))
	}
	f, ok := d.profile.Field(field)
	if !ok {
		return nil, nil, fmt.Errorf("device %q (profile %s) has no value %q", device, d.profile.Name, field)
	}
	return d, f, nil
}

func (s *Store) namesLocked() []string {
	names := make([]string, 0, len(s.devices))
	for n := range s.devices {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (d *device) set(f *profiles.Field, text string) error {
	if f.Kind() == collectors.Text {
		d.text[f.Name] = text
		return nil
	}
	if f.Kind() == collectors.Enum && text == "" {
		d.raw[f.Name] = float64(slices.Min(slices.Collect(maps.Keys(f.Enum))))
		return nil
	}
	v, err := f.Parse(text)
	if err != nil {
		return err
	}
	raw, err := f.Raw(v, d.invert[f.Name])
	if err != nil {
		return err
	}
	d.raw[f.Name] = raw
	return nil
}
