package modbus

import (
	"context"
	"fmt"
	"strings"

	"github.com/roomwatch/roomwatch/collectors"
)

// fallBack reads again, from their other sources in profile order, the
// values with fallbacks whose register in use was refused (a Modbus
// exception such as illegal data address: another firmware's register
// map). The first source that answers is remembered for the device and
// the reads are planned again over it; when none answers, the value is a
// sensor fault naming every register tried and the next poll starts again
// from the value's own register. A source that does not answer at all
// (timeout) ends the search for this poll, keeping the source in use.
func (p *Poller) fallBack(ctx context.Context, values []collectors.Value, refusedAt []bool) {
	changed := false
	for i := range p.profile.Fields {
		f := &p.profile.Fields[i]
		if !refusedAt[i] || f.Sources() < 2 {
			continue
		}
		tried := []int{p.src[i]}
		for {
			k := f.NextSource(tried)
			if k < 0 {
				where := make([]string, len(tried))
				for n, t := range tried {
					where[n] = Where(f.Source(t))
				}
				v := &values[i]
				v.Quality = collectors.SensorFault
				v.Err = fmt.Sprintf("none of %s answers (no such register on this unit)", strings.Join(where, ", "))
				changed = changed || p.src[i] != 0
				p.src[i] = 0
				break
			}
			tried = append(tried, k)
			src := f.Source(k)
			b := block{Table: src.Table, Start: src.Address, Count: uint16(Width(src)), Fields: []int{i}}
			words, err := p.read(ctx, &b)
			if err == nil {
				values[i] = Decode(src, words, p.invert[i])
				p.src[i], changed = k, true
				p.log.Info("value read from another register", "value", f.Name, "register", Where(src), "source", k)
				break
			}
			if !refused(err) {
				break
			}
		}
	}
	if changed {
		p.replan()
	}
}
