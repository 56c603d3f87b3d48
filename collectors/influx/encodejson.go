package influx

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/roomwatch/roomwatch/collectors"
)

// appendJSON appends exactly what SampleSet.Marshal (encoding/json) makes
// of s, without reflection: the spool's wire form, at a fraction of the
// cost on the collectors' path. ok is false when encoding/json would
// fail or do something this does not (a NaN, a time it rejects); the
// caller then uses SampleSet.Marshal. FuzzAppendJSON checks it byte for
// byte against encoding/json.
func appendJSON(b []byte, s *collectors.SampleSet) (_ []byte, ok bool) {
	d := &s.Device
	b = append(b, `{"device":{"site":`...)
	b = appendJSONString(b, d.Site)
	b = append(b, `,"room":`...)
	b = appendJSONString(b, d.Room)
	b = append(b, `,"device":`...)
	b = appendJSONString(b, d.Name)
	b = append(b, `,"profile":`...)
	b = appendJSONString(b, d.Profile)
	if d.Class != "" {
		b = append(b, `,"class":`...)
		b = appendJSONString(b, d.Class)
	}
	if len(d.Labels) > 0 {
		b = append(b, `,"labels":{`...)
		keys := make([]string, 0, len(d.Labels))
		for k := range d.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, d.Labels[k])
		}
		b = append(b, '}')
	}
	b = append(b, `},"time":"`...)
	var err error
	if b, err = s.Time.AppendText(b); err != nil {
		return b, false
	}
	b = append(b, `","duration":`...)
	b = strconv.AppendInt(b, int64(s.Duration), 10)
	b = append(b, `,"values":`...)
	if s.Values == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range s.Values {
			v := &s.Values[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, v.Name)
			if v.Unit != "" {
				b = append(b, `,"unit":`...)
				b = appendJSONString(b, v.Unit)
			}
			b = append(b, `,"kind":`...)
			b = appendJSONString(b, v.Kind.String())
			b = append(b, `,"num":`...)
			if b, ok = appendJSONFloat(b, v.Num); !ok {
				return b, false
			}
			if v.Str != "" {
				b = append(b, `,"str":`...)
				b = appendJSONString(b, v.Str)
			}
			b = append(b, `,"quality":`...)
			b = appendJSONString(b, v.Quality.String())
			if v.Err != "" {
				b = append(b, `,"err":`...)
				b = appendJSONString(b, v.Err)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if s.Err != "" {
		b = append(b, `,"err":`...)
		b = appendJSONString(b, s.Err)
	}
	return append(b, '}'), true
}

// appendJSONFloat formats f as encoding/json does (ES6 number style).
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 -> e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping:
// <, >, & and control characters as \u00XX, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
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
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
