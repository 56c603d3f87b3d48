package profiles

import (
	"fmt"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// NextSource returns the first source of f (0 = its own object, k = its
// fallback k) not in tried, or -1 when every one was tried.
func (f *Field) NextSource(tried []int) int {
	for k := range f.Sources() {
		found := false
		for _, t := range tried {
			found = found || t == k
		}
		if !found {
			return k
		}
	}
	return -1
}

// checkRegister checks a Modbus value's table, type, word order, bit and
// address (at names it in errors); an empty order becomes ABCD.
func checkRegister(f *Field, at string, errs *yamlconf.Errors) {
	if !tables[f.Table] {
		errs.Addf(at+".table", "%q: want coil, discrete, holding or input", f.Table)
	}
	n, ok := modbusTypes[f.Type]
	switch {
	case !ok:
		errs.Addf(at+".type", "%q: want int16, uint16, int32, uint32, float32 or bool", f.Type)
	case (f.Table == "coil" || f.Table == "discrete") != (n == 0):
		errs.Addf(at+".type", "%q does not fit table %q (bool for coil/discrete, a register type for holding/input)", f.Type, f.Table)
	}
	if f.Order == "" {
		f.Order = "ABCD"
	}
	if !orders[f.Order] {
		errs.Addf(at+".order", "%q: want ABCD, CDAB, BADC or DCBA", f.Order)
	}
	if f.Bit != nil && (*f.Bit < 0 || *f.Bit > 15 || n != 1) {
		errs.Addf(at+".bit", "want 0..15 on a 16-bit register type")
	}
	if int(f.Address)+n > 0x10000 {
		errs.Addf(at+".address", "%d: register block runs past 65535", f.Address)
	}
}

// checkModbusFallbacks checks the fallback registers of a Modbus value:
// each a register or bit of its own (table, address, type, order, bit,
// scale), with the value's enum, range and sentinels. A fallback that
// would decode to another kind of value (a bool for a number) is refused.
func checkModbusFallbacks(f *Field, at string, errs *yamlconf.Errors) {
	for k := range f.Fallback {
		fat := fmt.Sprintf("%s.fallback[%d]", at, k)
		fb := &f.Fallback[k]
		if fb.OID != "" {
			errs.Addf(fat+".oid", "oid is for SNMP profiles")
		}
		if fb.Order == "" {
			fb.Order = "ABCD"
		}
		src := f.Source(k + 1)
		checkRegister(src, fat, errs)
		if src.Kind() != f.Kind() {
			errs.Addf(fat+".type", "%q reads a %s, the value is a %s", fb.Type, src.Kind(), f.Kind())
		}
	}
}
