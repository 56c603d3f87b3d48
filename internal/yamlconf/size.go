package yamlconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Size is a number of bytes. In YAML it is a whole number of bytes
// (1073741824) or a number with a unit: binary KiB, MiB, GiB, TiB
// (64MiB, 1.5GiB), decimal KB, MB, GB, TB (500MB), or B. Every byte-size
// field of every file takes it, so sizes read the same everywhere.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize reads "1073741824", "1GiB", "1.5 GiB", "500MB" (units in any
// case: "64mib" is 64MiB).
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range sizeUnits {
		if len(t) >= len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(t, "xXpP_"):
		return 0, fmt.Errorf("%q is not a size (write 64MiB, 1GiB, 500MB or a number of bytes)", s)
	case f < 0:
		return 0, fmt.Errorf("%q: a size is not negative", s)
	case f*mult >= math.MaxInt64:
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(f * mult), nil
}

// UnmarshalYAML reads a number of bytes or a size with a unit.
func (b *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a size is a number of bytes or a text such as 64MiB")
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String prints the size in the largest binary unit, to one decimal
// (1.0GiB, 64.0MiB), or in bytes below 1KiB.
func (b Size) String() string {
	f := float64(b)
	for _, u := range []struct {
		s string
		m float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if f >= u.m {
			return strconv.FormatFloat(f/u.m, 'f', 1, 64) + u.s
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
