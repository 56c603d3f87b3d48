package modbus

import (
	"fmt"
	"math"
	"strconv"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Profile tables, as profiles.Field.Table spells them.
const (
	TableCoil     = "coil"     // function code 1
	TableDiscrete = "discrete" // function code 2
	TableHolding  = "holding"  // function code 3
	TableInput    = "input"    // function code 4
)

// IsBitTable reports whether table holds single bits (coils, discrete
// inputs) rather than 16-bit registers.
func IsBitTable(table string) bool { return table == TableCoil || table == TableDiscrete }

// tableNoun names one address of a table the way error texts and the
// Modbus specification do ("input register", "discrete input").
func tableNoun(table string) string {
	switch table {
	case TableCoil:
		return "coil"
	case TableDiscrete:
		return "discrete input"
	case TableHolding:
		return "holding register"
	case TableInput:
		return "input register"
	}
	return table + " register"
}

// Where names a field's register for error texts: "input register 7".
func Where(f *profiles.Field) string {
	return fmt.Sprintf("%s %d", tableNoun(f.Table), f.Address)
}

// Width is how many table entries (registers or bits) a field spans.
func Width(f *profiles.Field) int {
	if IsBitTable(f.Table) {
		return 1
	}
	return f.Registers()
}

// permute reorders four bytes between the wire order and the value's
// big-endian order ABCD. Each of the four orders is its own inverse, so
// the same permutation decodes and encodes.
func permute(b [4]byte, order string) [4]byte {
	switch order {
	case "CDAB":
		return [4]byte{b[2], b[3], b[0], b[1]}
	case "BADC":
		return [4]byte{b[1], b[0], b[3], b[2]}
	case "DCBA":
		return [4]byte{b[3], b[2], b[1], b[0]}
	}
	return b
}

// swapsBytes reports whether an order swaps the two bytes inside each
// register (BADC, DCBA); 16-bit values follow it too.
func swapsBytes(order string) bool { return order == "BADC" || order == "DCBA" }

// RawValue returns the raw wire number of field f from the registers it
// spans (words[0] is the register at f.Address). For coils and discrete
// inputs each word is one bit, 0 or 1. It is the inverse of Encode.
func RawValue(f *profiles.Field, words []uint16) (float64, error) {
	n := Width(f)
	if n == 0 {
		return 0, fmt.Errorf("%s: type %q has no Modbus width", Where(f), f.Type)
	}
	if len(words) < n {
		return 0, fmt.Errorf("%s: want %d registers for %s, got %d", Where(f), n, f.Type, len(words))
	}
	if IsBitTable(f.Table) {
		if words[0] != 0 {
			return 1, nil
		}
		return 0, nil
	}
	if n == 1 {
		w := words[0]
		if swapsBytes(f.Order) {
			w = w<<8 | w>>8
		}
		switch {
		case f.Bit != nil:
			return float64(w >> uint(*f.Bit) & 1), nil
		case f.Type == "int16":
			return float64(int16(w)), nil
		default:
			return float64(w), nil
		}
	}
	b := permute([4]byte{byte(words[0] >> 8), byte(words[0]), byte(words[1] >> 8), byte(words[1])}, f.Order)
	u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	switch f.Type {
	case "int32":
		return float64(int32(u)), nil
	case "float32":
		return shortest32(math.Float32frombits(u)), nil
	}
	return float64(u), nil
}

// Encode is the inverse of RawValue: the registers (or bit words) a device
// sends for the raw number raw. A bit field yields its register with only
// that bit set, for the caller to OR with the register's other bits.
func Encode(f *profiles.Field, raw float64) ([]uint16, error) {
	n := Width(f)
	if n == 0 {
		return nil, fmt.Errorf("%s: type %q has no Modbus width", Where(f), f.Type)
	}
	if IsBitTable(f.Table) || f.Bit != nil {
		var w uint16
		if raw != 0 {
			w = 1
			if f.Bit != nil {
				w = 1 << uint(*f.Bit)
				if swapsBytes(f.Order) {
					w = w<<8 | w>>8
				}
			}
		}
		return []uint16{w}, nil
	}
	var u uint32
	check := func(lo, hi float64) error {
		if raw != math.Trunc(raw) || raw < lo || raw > hi {
			return fmt.Errorf("%s: %g does not fit %s", Where(f), raw, f.Type)
		}
		return nil
	}
	switch f.Type {
	case "int16":
		if err := check(math.MinInt16, math.MaxInt16); err != nil {
			return nil, err
		}
		u = uint32(uint16(int16(raw)))
	case "uint16":
		if err := check(0, math.MaxUint16); err != nil {
			return nil, err
		}
		u = uint32(raw)
	case "int32":
		if err := check(math.MinInt32, math.MaxInt32); err != nil {
			return nil, err
		}
		u = uint32(int32(raw))
	case "uint32":
		if err := check(0, math.MaxUint32); err != nil {
			return nil, err
		}
		u = uint32(raw)
	case "float32":
		u = math.Float32bits(float32(raw))
	default:
		return nil, fmt.Errorf("%s: cannot encode type %q", Where(f), f.Type)
	}
	if n == 1 {
		w := uint16(u)
		if swapsBytes(f.Order) {
			w = w<<8 | w>>8
		}
		return []uint16{w}, nil
	}
	b := permute([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}, f.Order)
	return []uint16{uint16(b[0])<<8 | uint16(b[1]), uint16(b[2])<<8 | uint16(b[3])}, nil
}

// Decode turns the registers a field spans into a Value: wire type and
// order, then the profile's sentinel, scale, offset, range and enum or
// bool mapping. invert flips a bool for this device (a normally-closed
// contact). It never fails: a value that cannot be decoded is a
// SensorFault naming the register.
func Decode(f *profiles.Field, words []uint16, invert bool) collectors.Value {
	raw, err := RawValue(f, words)
	if err != nil {
		v := collectors.Value{Name: f.Name, Unit: f.Unit, Kind: f.Kind(), Quality: collectors.SensorFault, Err: err.Error()}
		return v
	}
	v := f.Convert(raw, invert, "")
	if v.Err != "" {
		// The register's name only goes into error texts: build it for a
		// faulty value alone, so a good poll formats no strings.
		v = f.Convert(raw, invert, Where(f))
	}
	return v
}

// unpackBits spreads a Modbus bit response (LSB of the first byte is the
// first address) into one word per bit.
func unpackBits(b []byte, n int, dst []uint16) []uint16 {
	for i := 0; i < n; i++ {
		dst = append(dst, uint16(b[i/8]>>(uint(i)%8)&1))
	}
	return dst
}

// unpackRegisters turns big-endian register bytes into words.
func unpackRegisters(b []byte, dst []uint16) []uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return dst
}

// shortest32 widens f to the float64 that prints as f's shortest decimal
// form: a sensor's 409.6 stays 409.6, not 409.6000061035156.
func shortest32(f float32) float64 {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return float64(f)
	}
	// A whole number below 2^24 is its own shortest form (float32 steps
	// there are at most 1): most readings (230 V, 50 Hz, 25 °C) need no
	// formatting.
	if f > -1<<24 && f < 1<<24 && f == float32(int32(f)) {
		return float64(f)
	}
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return v
}
