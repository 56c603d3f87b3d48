package modbus

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

func ptr[T any](v T) *T { return &v }

func TestDecode(t *testing.T) {
	hold := func(typ, order string) profiles.Field {
		return profiles.Field{Name: "v", Table: TableHolding, Type: typ, Order: order}
	}
	cases := []struct {
		name  string
		f     profiles.Field
		words []uint16
		inv   bool
		want  float64
		str   string
		q     collectors.Quality
		err   string
	}{
		{name: "uint16", f: hold("uint16", "ABCD"), words: []uint16{0xFDE8}, want: 65000},
		{name: "int16 negative", f: hold("int16", "ABCD"), words: []uint16{0xFF9B}, want: -101},
		{name: "int16 byte swapped", f: hold("int16", "BADC"), words: []uint16{0x9BFF}, want: -101},
		{name: "uint16 DCBA swaps bytes", f: hold("uint16", "DCBA"), words: []uint16{0x3412}, want: 0x1234},
		{name: "int32 ABCD", f: hold("int32", "ABCD"), words: []uint16{0x8876, 0x5432}, want: -2005511118},
		{name: "int32 CDAB", f: hold("int32", "CDAB"), words: []uint16{0x5432, 0x8876}, want: -2005511118},
		{name: "int32 BADC", f: hold("int32", "BADC"), words: []uint16{0x7688, 0x3254}, want: -2005511118},
		{name: "int32 DCBA", f: hold("int32", "DCBA"), words: []uint16{0x3254, 0x7688}, want: -2005511118},
		{name: "uint32 ABCD", f: hold("uint32", "ABCD"), words: []uint16{0x0001, 0x5F90}, want: 90000},
		{name: "uint32 CDAB", f: hold("uint32", "CDAB"), words: []uint16{0x5F90, 0x0001}, want: 90000},
		{name: "uint32 BADC", f: hold("uint32", "BADC"), words: []uint16{0x0100, 0x905F}, want: 90000},
		{name: "uint32 DCBA", f: hold("uint32", "DCBA"), words: []uint16{0x905F, 0x0100}, want: 90000},
		{name: "float32 ABCD", f: hold("float32", "ABCD"), words: []uint16{0x43BE, 0x4000}, want: 380.5},
		{name: "float32 CDAB", f: hold("float32", "CDAB"), words: []uint16{0x4000, 0x43BE}, want: 380.5},
		{name: "float32 BADC", f: hold("float32", "BADC"), words: []uint16{0xBE43, 0x0040}, want: 380.5},
		{name: "float32 DCBA", f: hold("float32", "DCBA"), words: []uint16{0x0040, 0xBE43}, want: 380.5},
		{name: "scale and offset", f: profiles.Field{Name: "v", Table: TableInput, Type: "int16", Order: "ABCD", Scale: 0.1, Offset: -40}, words: []uint16{500}, want: 10},
		{name: "bit set", f: profiles.Field{Name: "v", Table: TableHolding, Type: "uint16", Order: "ABCD", Bit: ptr(3)}, words: []uint16{0x0009}, want: 1},
		{name: "bit clear", f: profiles.Field{Name: "v", Table: TableHolding, Type: "uint16", Order: "ABCD", Bit: ptr(2)}, words: []uint16{0x0009}, want: 0},
		{name: "bit in swapped register", f: profiles.Field{Name: "v", Table: TableHolding, Type: "uint16", Order: "BADC", Bit: ptr(3)}, words: []uint16{0x0800}, want: 1},
		{name: "discrete on", f: profiles.Field{Name: "v", Table: TableDiscrete, Type: "bool"}, words: []uint16{1}, want: 1},
		{name: "discrete inverted", f: profiles.Field{Name: "v", Table: TableDiscrete, Type: "bool"}, words: []uint16{1}, inv: true, want: 0},
		{name: "coil off inverted", f: profiles.Field{Name: "v", Table: TableCoil, Type: "bool"}, words: []uint16{0}, inv: true, want: 1},
		{name: "enum", f: profiles.Field{Name: "v", Table: TableHolding, Type: "uint16", Order: "ABCD", Enum: map[int64]string{2: "normal", 3: "low"}}, words: []uint16{3}, want: 3, str: "low"},
		{name: "enum unknown code", f: profiles.Field{Name: "v", Table: TableHolding, Address: 1, Type: "uint16", Order: "ABCD", Enum: map[int64]string{2: "normal"}}, words: []uint16{9},
			want: 9, q: collectors.SensorFault, err: "holding register 1: value 9 (0x9) is not one of the profile's codes"},
		{name: "sentinel 0x7FFF", f: profiles.Field{Name: "v", Table: TableInput, Address: 1, Type: "int16", Order: "ABCD", Scale: 0.1, Sentinels: []float64{0x7FFF}}, words: []uint16{0x7FFF},
			want: 0x7FFF, q: collectors.SensorFault, err: "input register 1: sensor disconnected (sentinel 32767 (0x7FFF))"},
		{name: "sentinel negative int32", f: profiles.Field{Name: "v", Table: TableHolding, Address: 4, Type: "int32", Order: "CDAB", Sentinels: []float64{-1}}, words: []uint16{0xFFFF, 0xFFFF},
			want: -1, q: collectors.SensorFault, err: "holding register 4: sensor disconnected (sentinel -1)"},
		{name: "out of range", f: profiles.Field{Name: "v", Unit: "%", Table: TableInput, Type: "uint16", Order: "ABCD", Scale: 0.1, Max: ptr(100.0)}, words: []uint16{1200},
			want: 120, q: collectors.SensorFault, err: "input register 0: value 120 % out of range [-inf, 100]"},
		{name: "float NaN is a fault", f: hold("float32", "ABCD"), words: []uint16{0x7FC0, 0x0000},
			want: math.NaN(), q: collectors.SensorFault, err: "holding register 0: value NaN  out of range [-inf, +inf]"},
		{name: "too few registers", f: hold("float32", "ABCD"), words: []uint16{0x43BE},
			q: collectors.SensorFault, err: "holding register 0: want 2 registers for float32, got 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Decode(&c.f, c.words, c.inv)
			if v.Quality != c.q || v.Err != c.err {
				t.Fatalf("quality %v err %q, want %v %q", v.Quality, v.Err, c.q, c.err)
			}
			if c.err != "" && c.words == nil {
				return
			}
			if !(v.Num == c.want || math.IsNaN(c.want) && math.IsNaN(v.Num) || math.Abs(v.Num-c.want) < 1e-9) {
				t.Errorf("Num = %v, want %v", v.Num, c.want)
			}
			if v.Str != c.str {
				t.Errorf("Str = %q, want %q", v.Str, c.str)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	raws := map[string][]float64{
		"int16":   {0, 1, -1, 32767, -32768},
		"uint16":  {0, 1, 65535},
		"int32":   {0, -1, math.MaxInt32, math.MinInt32, 123456789},
		"uint32":  {0, 1, math.MaxUint32, 90000},
		"float32": {0, -999, 380.5, 229.7, -1e-20},
	}
	for typ, vals := range raws {
		for _, o := range Orders {
			for _, raw := range vals {
				f := profiles.Field{Name: "v", Table: TableHolding, Type: typ, Order: o}
				words, err := Encode(&f, raw)
				if err != nil {
					t.Fatalf("%s %s %v: %v", typ, o, raw, err)
				}
				got, err := RawValue(&f, words)
				if err != nil || got != raw {
					t.Errorf("%s %s: encode %v -> %04X -> %v, %v", typ, o, raw, words, got, err)
				}
			}
		}
	}
	f := profiles.Field{Name: "v", Table: TableHolding, Type: "int16", Order: "ABCD"}
	if _, err := Encode(&f, 40000); err == nil || !strings.Contains(err.Error(), "holding register 0: 40000 does not fit int16") {
		t.Errorf("encode out of range: %v", err)
	}
}

// dump is one recorded register dump and the values it must decode to.
type dump struct {
	profile string
	invert  []string
	regs    map[string]map[uint16]uint16
	want    [][2]string
}

func readDump(t *testing.T, path string) dump {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	d := dump{regs: map[string]map[uint16]uint16{}}
	sc := bufio.NewScanner(fh)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		bad := func() { t.Fatalf("%s:%d: cannot read %q", path, line, text) }
		switch key, rest, _ := strings.Cut(text, " "); key {
		case "profile:":
			d.profile = rest
		case "invert:":
			d.invert = strings.Fields(rest)
		case "want":
			name, val, ok := strings.Cut(rest, " ")
			if !ok {
				bad()
			}
			d.want = append(d.want, [2]string{name, val})
		default:
			at, words, ok := strings.Cut(rest, ":")
			a, err := strconv.ParseUint(at, 10, 16)
			if !ok || err != nil || functionCodes[key] == 0 {
				bad()
			}
			if d.regs[key] == nil {
				d.regs[key] = map[uint16]uint16{}
			}
			for i, w := range strings.Fields(words) {
				n, err := strconv.ParseUint(w, 16, 16)
				if err != nil {
					bad()
				}
				d.regs[key][uint16(a)+uint16(i)] = uint16(n)
			}
		}
	}
	return d
}

// TestRecordedDumps decodes every built-in Modbus profile's recorded
// register dumps and checks the values they must give.
func TestRecordedDumps(t *testing.T) {
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob("testdata/dumps/*.txt")
	covered := map[string]bool{}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			d := readDump(t, path)
			p, ok := set[d.profile]
			if !ok {
				t.Fatalf("no built-in profile %q", d.profile)
			}
			covered[p.Name] = true
			cfg := collectors.DeviceConfig{Invert: d.invert}
			got := map[string]collectors.Value{}
			for i := range p.Fields {
				f := &p.Fields[i]
				words := make([]uint16, Width(f))
				for w := range words {
					v, ok := d.regs[f.Table][f.Address+uint16(w)]
					if !ok {
						t.Fatalf("dump has no %s %d for %s", tableNoun(f.Table), int(f.Address)+w, f.Name)
					}
					words[w] = v
				}
				got[f.Name] = Decode(f, words, cfg.Inverted(f.Name))
			}
			if len(d.want) != len(p.Fields) {
				t.Errorf("dump checks %d values, profile has %d", len(d.want), len(p.Fields))
			}
			for _, w := range d.want {
				checkValue(t, got[w[0]], w[0], w[1])
			}
		})
	}
	for _, n := range set.Names() {
		if set[n].Protocol == "modbus" && !covered[n] {
			t.Errorf("built-in profile %s has no recorded dump in testdata/dumps", n)
		}
	}
}

// checkValue compares v with want: "sensor-fault", "comms-lost", a
// number, true/false or an enum label.
func checkValue(t *testing.T, v collectors.Value, name, want string) {
	t.Helper()
	if v.Name != name {
		t.Errorf("%s: missing (got %+v)", name, v)
		return
	}
	switch want {
	case "sensor-fault", "comms-lost":
		if v.Quality.String() != want {
			t.Errorf("%s: quality %v (%v), want %s", name, v.Quality, v.Any(), want)
		}
		return
	}
	if v.Quality != collectors.Good {
		t.Errorf("%s: quality %v: %s, want %s", name, v.Quality, v.Err, want)
		return
	}
	if x, err := strconv.ParseFloat(want, 64); err == nil && v.Kind == collectors.Number {
		if math.Abs(v.Num-x) > 1e-4*math.Max(1, math.Abs(x)) {
			t.Errorf("%s = %v, want %v", name, v.Num, x)
		}
		return
	}
	if got := strings.TrimSpace(strconv.Quote(toText(v))); got != strconv.Quote(want) {
		t.Errorf("%s = %s, want %q", name, got, want)
	}
}

func toText(v collectors.Value) string {
	switch x := v.Any().(type) {
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	default:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	}
}

// TestShortest32WholeNumbers: the shortcut for whole numbers gives what
// formatting gives.
func TestShortest32WholeNumbers(t *testing.T) {
	slow := func(f float32) float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
		return v
	}
	check := func(f float32) {
		if math.IsNaN(float64(f)) {
			return
		}
		if got, want := shortest32(f), slow(f); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("shortest32(%v) = %v, want %v", f, got, want)
		}
	}
	for i := -70000; i <= 70000; i++ {
		check(float32(i))
		check(float32(i) + 0.5)
	}
	for _, edge := range []float32{1 << 24, 1<<24 - 1, -(1 << 24), 1<<24 + 2, 1 << 31, -(1 << 31), 3e9, -3e9, float32(math.Copysign(0, -1)), 16777215.5, 409.6} {
		check(edge)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(math.Float32frombits(r.Uint32()))
	}
}

func TestPlan(t *testing.T) {
	mk := func(table string, addr uint16, typ string) profiles.Field {
		return profiles.Field{Name: table + strconv.Itoa(int(addr)), Table: table, Address: addr, Type: typ}
	}
	cases := []struct {
		name   string
		fields []profiles.Field
		want   []block
	}{
		{"adjacent registers share a request",
			[]profiles.Field{mk("input", 1, "int16"), mk("input", 0, "uint16")},
			[]block{{Table: "input", Start: 0, Count: 2, Fields: []int{1, 0}}}},
		{"32-bit values span two registers",
			[]profiles.Field{mk("holding", 0, "uint16"), mk("holding", 1, "float32"), mk("holding", 3, "int32")},
			[]block{{Table: "holding", Start: 0, Count: 5, Fields: []int{0, 1, 2}}}},
		{"small gap bridged",
			[]profiles.Field{mk("holding", 0, "uint16"), mk("holding", 9, "uint16")},
			[]block{{Table: "holding", Start: 0, Count: 10, Fields: []int{0, 1}}}},
		{"large gap splits",
			[]profiles.Field{mk("holding", 0, "uint16"), mk("holding", 10, "uint16")},
			[]block{{Table: "holding", Start: 0, Count: 1, Fields: []int{0}}, {Table: "holding", Start: 10, Count: 1, Fields: []int{1}}}},
		{"125-register limit", every5(), []block{
			{Table: "holding", Start: 0, Count: 125, Fields: seq(0, 26)},
			{Table: "holding", Start: 125, Count: 1, Fields: []int{26}}}},
		{"32-bit value crossing the limit starts a new request",
			[]profiles.Field{mk("input", 0, "uint16"), mk("input", 124, "float32")},
			[]block{{Table: "input", Start: 0, Count: 1, Fields: []int{0}}, {Table: "input", Start: 124, Count: 2, Fields: []int{1}}}},
		{"bits up to 2000",
			[]profiles.Field{mk("discrete", 0, "bool"), mk("discrete", 30, "bool"), mk("discrete", 1999, "bool"), mk("discrete", 2000, "bool")},
			[]block{{Table: "discrete", Start: 0, Count: 31, Fields: []int{0, 1}}, {Table: "discrete", Start: 1999, Count: 2, Fields: []int{2, 3}}}},
		{"tables never mix; bit fields share a register",
			[]profiles.Field{mk("coil", 0, "bool"), mk("holding", 0, "uint16"), {Name: "b", Table: "holding", Address: 0, Type: "uint16", Bit: ptr(3)}, mk("discrete", 0, "bool")},
			[]block{{Table: "coil", Start: 0, Count: 1, Fields: []int{0}}, {Table: "discrete", Start: 0, Count: 1, Fields: []int{3}}, {Table: "holding", Start: 0, Count: 1, Fields: []int{1, 2}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields := make([]*profiles.Field, len(c.fields))
			for i := range c.fields {
				fields[i] = &c.fields[i]
			}
			got := plan(fields)
			if len(got) != len(c.want) {
				t.Fatalf("plan = %+v, want %+v", got, c.want)
			}
			for i := range got {
				g, w := got[i], c.want[i]
				if g.Table != w.Table || g.Start != w.Start || g.Count != w.Count || !slices.Equal(g.Fields, w.Fields) {
					t.Errorf("block %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// every5 is holding registers 0, 5, …, 120, then 124 and 125.
func every5() []profiles.Field {
	var fs []profiles.Field
	for a := 0; a <= 120; a += 5 {
		fs = append(fs, profiles.Field{Table: "holding", Address: uint16(a), Type: "uint16"})
	}
	return append(fs, profiles.Field{Table: "holding", Address: 124, Type: "uint16"}, profiles.Field{Table: "holding", Address: 125, Type: "uint16"})
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestRawTable(t *testing.T) {
	// 380.5 as float32 CDAB, then 90000 as uint32 CDAB.
	out := RawTable([]uint16{0x4000, 0x43BE, 0x5F90, 0x0001}, 8)
	for _, want := range [][]string{
		{"8", "0x4000", "16384", "16384", "64", "64"},
		{"9", "0x43BE", "17342", "17342", "48707", "-16829"},
		{"8", "CDAB", "0x43BE4000", "1136541696", "1136541696", "380.5"},
		{"10", "CDAB", "0x00015F90", "90000", "90000", "1.261169e-40"},
		{"8", "DCBA", "0xBE430040", "3192062016", "-1102905280", "-0.1904306"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.Join(strings.Fields(line), " ") == strings.Join(want, " ") {
				found = true
			}
		}
		if !found {
			t.Errorf("RawTable lacks row %q:\n%s", want, out)
		}
	}
	if strings.Contains(RawTable([]uint16{1}, 0), "32-bit") {
		t.Error("one register shows 32-bit rows")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x43, 0xBE, 0x40, 0x00}, uint8(4), uint8(1), int8(-1))
	f.Add([]byte{0x7F, 0xFF}, uint8(0), uint8(0), int8(-1))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF}, uint8(2), uint8(3), int8(-1))
	f.Add([]byte{0x00, 0x08}, uint8(1), uint8(2), int8(3))
	f.Add([]byte{0x01}, uint8(3), uint8(0), int8(-1))
	types := []string{"int16", "uint16", "int32", "uint32", "float32"}
	f.Fuzz(func(t *testing.T, data []byte, typ, order uint8, bit int8) {
		fd := profiles.Field{Name: "v", Table: TableHolding, Type: types[int(typ)%len(types)], Order: Orders[int(order)%len(Orders)],
			Scale: 0.1, Sentinels: []float64{0x7FFF}, Min: ptr(-1000.0), Max: ptr(1e6)}
		if bit >= 0 && fd.Registers() == 1 {
			fd.Bit = ptr(int(bit) % 16)
		}
		words := unpackRegisters(data, nil)
		v := Decode(&fd, words, false)
		if len(words) < fd.Registers() {
			if v.Quality != collectors.SensorFault || v.Err == "" {
				t.Fatalf("short input decoded as %+v", v)
			}
			return
		}
		raw, err := RawValue(&fd, words)
		if err != nil {
			t.Fatal(err)
		}
		if fd.Type == "float32" && math.IsNaN(raw) {
			return
		}
		back, err := Encode(&fd, raw)
		if err != nil {
			t.Fatalf("encode %v: %v", raw, err)
		}
		if fd.Bit == nil && !slices.Equal(back, words[:fd.Registers()]) {
			t.Fatalf("%s %s: %04X -> %v -> %04X", fd.Type, fd.Order, words, raw, back)
		}
	})
}

// BenchmarkDecode decodes the 12 values of the modbus-ups profile from
// one 20-register block (the recorded on-battery dump), as a poll does.
func BenchmarkDecode(b *testing.B) {
	set, err := profiles.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	p := set["modbus-ups"]
	words := []uint16{0x0009, 0x0003, 0x0041, 0x015E, 0x002A, 0x0000, 0x5F90, 0x0001,
		0x4000, 0x43BE, 0x0000, 0x41DA, 0x0000, 0x0000, 0x199A, 0x4366, 0x0000, 0x0000, 0x0000, 0x4248}
	values := make([]collectors.Value, len(p.Fields))
	b.ReportAllocs()
	for b.Loop() {
		for i := range p.Fields {
			f := &p.Fields[i]
			values[i] = Decode(f, words[f.Address:int(f.Address)+Width(f)], false)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(p.Fields)), "ns/value")
}
