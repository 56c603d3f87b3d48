package modbus

import (
	"cmp"
	"slices"
	"strings"

	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Request limits of the Modbus application protocol and how far apart two
// fields may be and still share one request.
const (
	MaxRegisters = 125  // registers per read (function codes 3, 4)
	MaxBits      = 2000 // bits per read (function codes 1, 2)
	// MaxRegisterGap and MaxBitGap are the unused addresses a request may
	// span between two fields; a device that answers such a gap with an
	// exception gets its fields read one by one instead.
	MaxRegisterGap = 8
	MaxBitGap      = 32
)

// block is one read request: a run of addresses of one table covering
// one or more fields.
type block struct {
	Table string
	Start uint16
	Count uint16
	// Fields are indexes into the profile's Fields.
	Fields []int
}

// plan groups a profile's fields into as few requests as the protocol
// limits allow, in table then address order. The blocks' Fields share one
// array of field indexes, sorted in that order.
func plan(fields []*profiles.Field) []block {
	idx := make([]int, len(fields))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		fa, fb := fields[a], fields[b]
		if c := strings.Compare(fa.Table, fb.Table); c != 0 {
			return c
		}
		return cmp.Compare(fa.Address, fb.Address)
	})
	var out []block
	first := 0 // idx[first:] are the fields of the last block
	for n, i := range idx {
		f := fields[i]
		start, end := int(f.Address), int(f.Address)+Width(f)
		limit, gap := MaxRegisters, MaxRegisterGap
		if IsBitTable(f.Table) {
			limit, gap = MaxBits, MaxBitGap
		}
		if len(out) > 0 {
			b := &out[len(out)-1]
			bEnd := int(b.Start) + int(b.Count)
			if b.Table == f.Table && start <= bEnd+gap && max(end, bEnd)-int(b.Start) <= limit {
				b.Count = uint16(max(end, bEnd) - int(b.Start))
				b.Fields = idx[first : n+1 : n+1]
				continue
			}
		}
		first = n
		out = append(out, block{Table: f.Table, Start: uint16(start), Count: uint16(end - start), Fields: idx[n : n+1 : n+1]})
	}
	return out
}

// single is the block that reads field i alone.
func single(fields []*profiles.Field, i int) block {
	f := fields[i]
	return block{Table: f.Table, Start: f.Address, Count: uint16(Width(f)), Fields: []int{i}}
}
