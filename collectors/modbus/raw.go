package modbus

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Orders are the byte/word orders of 32-bit values, as profiles spell them.
var Orders = []string{"ABCD", "CDAB", "BADC", "DCBA"}

// ReadRaw reads count registers (or bits) of table (coil, discrete,
// holding, input) from address on the device at t, for
// `roomwatch probe --raw`. ctx bounds the read (DefaultTimeout if it has
// no deadline). Bits come back as words of 0 or 1.
func ReadRaw(ctx context.Context, t collectors.Target, table string, address, count uint16) ([]uint16, error) {
	if functionCodes[table] == 0 {
		return nil, fmt.Errorf("read raw %s: unknown table %q: want coil, discrete, holding or input", t, table)
	}
	limit := MaxRegisters
	if IsBitTable(table) {
		limit = MaxBits
	}
	if count == 0 || int(count) > limit || int(address)+int(count) > 0x10000 {
		return nil, fmt.Errorf("read raw %s: %s %d count %d: want 1..%d entries within 0..65535", t, tableNoun(table), address, count, limit)
	}
	if t.Scheme != collectors.SchemeModbusTCP && t.Scheme != collectors.SchemeModbusRTU {
		return nil, fmt.Errorf("read raw %s: not a modbus+tcp or modbus+rtu target", t)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	b, err := openBus(t)
	if err != nil {
		return nil, fmt.Errorf("read raw %s: %w", t, err)
	}
	defer func() { _ = b.release() }()
	if err := b.acquire(ctx); err != nil {
		return nil, fmt.Errorf("read raw %s: %w", t, err)
	}
	defer b.unlock()
	words, err := b.read(within{ctx: ctx}, t.Unit, table, address, count)
	if err != nil {
		return nil, fmt.Errorf("read raw %s: %s %d..%d: %w", t, tableNoun(table), address, int(address)+int(count)-1, err)
	}
	return append([]uint16(nil), words...), nil
}

// RawTable shows a register block read from address start in every way a
// profile can decode it: each register as hex, uint16 and int16 in both
// byte orders (AB, BA), and each pair of registers as uint32, int32 and
// float32 in the four orders ABCD, CDAB, BADC and DCBA. An engineer
// compares it with the device's display to find a profile's type and
// order.
func RawTable(regs []uint16, start uint16) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "16-bit registers (AB = as sent, BA = bytes swapped: order BADC/DCBA)\n")
	fmt.Fprintf(&sb, "%-7s %-6s %8s %8s %8s %8s\n", "addr", "hex", "uint16", "int16", "uint16BA", "int16BA")
	for i, w := range regs {
		ab := decodeAs(w, 0, "uint16", "ABCD")
		abs := decodeAs(w, 0, "int16", "ABCD")
		ba := decodeAs(w, 0, "uint16", "BADC")
		bas := decodeAs(w, 0, "int16", "BADC")
		fmt.Fprintf(&sb, "%-7d 0x%04X %8s %8s %8s %8s\n", int(start)+i, w, ab, abs, ba, bas)
	}
	if len(regs) < 2 {
		return sb.String()
	}
	fmt.Fprintf(&sb, "\n32-bit values (two registers from addr)\n")
	fmt.Fprintf(&sb, "%-7s %-5s %-10s %11s %12s %14s\n", "addr", "order", "hex", "uint32", "int32", "float32")
	for i := 0; i+1 < len(regs); i++ {
		for _, o := range Orders {
			u := decodeAs(regs[i], regs[i+1], "uint32", o)
			s := decodeAs(regs[i], regs[i+1], "int32", o)
			f := decodeAs(regs[i], regs[i+1], "float32", o)
			n, _ := strconv.ParseUint(u, 10, 32)
			fmt.Fprintf(&sb, "%-7d %-5s 0x%08X %11s %12s %14s\n", int(start)+i, o, n, u, s, f)
		}
	}
	return sb.String()
}

// decodeAs decodes one or two registers as typ in order, with the same
// code the poller uses.
func decodeAs(w0, w1 uint16, typ, order string) string {
	f := profiles.Field{Table: TableHolding, Type: typ, Order: order}
	raw, err := RawValue(&f, []uint16{w0, w1})
	if err != nil {
		return "?"
	}
	if typ == "float32" {
		if math.IsNaN(raw) || math.IsInf(raw, 0) {
			return fmt.Sprint(raw)
		}
		return strconv.FormatFloat(raw, 'g', 7, 32)
	}
	return strconv.FormatFloat(raw, 'f', -1, 64)
}
