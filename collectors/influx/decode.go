package influx

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/roomwatch/roomwatch/collectors"
)

// decoder reads the spool's JSON form of a SampleSet (SampleSet.Marshal)
// without reflection, interning the repeated strings (names, units,
// device identity), which makes the writer several times cheaper than
// encoding/json. Anything it does not expect (a syntax it does not
// handle, a field of the wrong type) makes it fall back to encoding/json,
// so it never decodes differently. Not safe for concurrent use.
type decoder struct {
	b      []byte
	i      int
	intern map[string]string
}

var errFallback = errors.New("fallback")

func newDecoder() *decoder { return &decoder{intern: make(map[string]string)} }

// Decode decodes data into s.
func (d *decoder) Decode(data []byte, s *collectors.SampleSet) error {
	d.b, d.i = data, 0
	if err := d.sampleSet(s); err == nil {
		d.ws()
		if d.i == len(d.b) {
			return nil
		}
	}
	*s = collectors.SampleSet{}
	return json.Unmarshal(data, s)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object calls field for each key of an object.
func (d *decoder) object(field func(key []byte) error) error {
	if !d.consume('{') {
		return errFallback
	}
	if d.consume('}') {
		return nil
	}
	for {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if !d.consume(':') {
			return errFallback
		}
		if err := field(key); err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return nil
		}
		return errFallback
	}
}

// rawString returns the bytes of a string without escapes (an escape
// falls back to encoding/json).
func (d *decoder) rawString() ([]byte, error) {
	if !d.consume('"') {
		return nil, errFallback
	}
	start, ascii := d.i, true
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, errFallback // encoding/json substitutes U+FFFD
			}
			return s, nil
		case c == '\\' || c < 0x20:
			return nil, errFallback
		case c >= 0x80:
			ascii = false
		}
		d.i++
	}
	return nil, errFallback
}

// plain returns a string value without interning it (error texts vary);
// null is "".
func (d *decoder) plain() (string, error) {
	d.ws()
	if d.null() {
		return "", nil
	}
	b, err := d.rawString()
	return string(b), err
}

// str returns an interned string value; null is "".
func (d *decoder) str() (string, error) {
	d.ws()
	if d.null() {
		return "", nil
	}
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	if s, ok := d.intern[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(d.intern) < 100000 {
		d.intern[s] = s
	}
	return s, nil
}

func (d *decoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// numberBytes returns a number literal in strict JSON grammar.
func (d *decoder) numberBytes() ([]byte, error) {
	d.ws()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, errFallback
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, errFallback
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, errFallback
		}
	}
	return d.b[start:d.i], nil
}

func (d *decoder) number() (float64, error) {
	n, err := d.numberBytes()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, errFallback
	}
	return f, nil
}

func (d *decoder) sampleSet(s *collectors.SampleSet) error {
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "device":
			err = d.device(&s.Device)
		case "time":
			var ts []byte
			if ts, err = d.rawString(); err == nil {
				err = s.Time.UnmarshalText(ts) // as encoding/json does
			}
		case "duration":
			var n []byte
			if n, err = d.numberBytes(); err == nil {
				var v int64
				if v, err = strconv.ParseInt(string(n), 10, 64); err != nil {
					err = errFallback
				}
				s.Duration = time.Duration(v)
			}
		case "values":
			err = d.values(s)
		case "err":
			s.Err, err = d.plain()
		default:
			err = errFallback // encoding/json matches keys case-insensitively
		}
		return err
	})
}

func (d *decoder) device(dev *collectors.Device) error {
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "site":
			dev.Site, err = d.str()
		case "room":
			dev.Room, err = d.str()
		case "device":
			dev.Name, err = d.str()
		case "profile":
			dev.Profile, err = d.str()
		case "class":
			dev.Class, err = d.str()
		case "labels":
			d.ws()
			if d.null() {
				dev.Labels = nil
				return nil
			}
			if dev.Labels == nil {
				dev.Labels = make(map[string]string)
			}
			err = d.object(func(k []byte) error {
				v, err := d.str()
				dev.Labels[string(k)] = v
				return err
			})
		default:
			err = errFallback
		}
		return err
	})
}

func (d *decoder) values(s *collectors.SampleSet) error {
	d.ws()
	if d.null() {
		return nil
	}
	if !d.consume('[') {
		return errFallback
	}
	s.Values = make([]collectors.Value, 0, 16)
	if d.consume(']') {
		return nil
	}
	for {
		var v collectors.Value
		err := d.object(func(key []byte) error {
			var err error
			switch string(key) {
			case "name":
				v.Name, err = d.str()
			case "unit":
				v.Unit, err = d.str()
			case "kind":
				var b []byte
				if b, err = d.rawString(); err == nil {
					err = v.Kind.UnmarshalText(b)
				}
			case "num":
				v.Num, err = d.number()
			case "str":
				v.Str, err = d.str()
			case "quality":
				var b []byte
				if b, err = d.rawString(); err == nil {
					err = v.Quality.UnmarshalText(b)
				}
			case "err":
				v.Err, err = d.plain()
			default:
				err = errFallback
			}
			return err
		})
		if err != nil {
			return err
		}
		s.Values = append(s.Values, v)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return nil
		}
		return errFallback
	}
}
