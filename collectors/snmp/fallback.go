package snmp

import (
	"context"
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// unanswered reports whether the agent has no object for scalar field i:
// noSuchObject, noSuchInstance, a v1 noSuchName, or nothing at all.
func unanswered(r *Response, i int) bool {
	if r.Errs[i] != "" || r.Vars[i].Name == "" {
		return true
	}
	t := r.Vars[i].Type
	return t == gosnmp.NoSuchObject || t == gosnmp.NoSuchInstance
}

// fallBack reads again, from their other sources in profile order, the
// scalar fields with fallbacks whose source in use did not answer. The
// first source that answers is remembered for the device; when none
// does, the value is a sensor fault naming every OID tried, and the next
// poll starts again from the field's own OID.
func (p *Poller) fallBack(ctx context.Context, r *Response) error {
	var retry []int
	tried := map[int][]int{}
	for _, i := range p.scalars {
		if p.prof.Fields[i].Sources() > 1 && unanswered(r, i) {
			retry = append(retry, i)
			tried[i] = []int{p.src[i]}
		}
	}
	for len(retry) > 0 {
		next := retry[:0:0]
		for _, i := range retry {
			f := &p.prof.Fields[i]
			k := f.NextSource(tried[i])
			if k < 0 {
				oids := make([]string, 0, len(tried[i]))
				for _, t := range tried[i] {
					oids = append(oids, trimDot(f.Source(t).OID))
				}
				r.Errs[i] = fmt.Sprintf("none of %s answers (no such object on this agent)", strings.Join(oids, ", "))
				p.src[i] = 0
				continue
			}
			tried[i] = append(tried[i], k)
			p.src[i] = k
			r.Vars[i], r.Errs[i] = gosnmp.SnmpPDU{}, ""
			next = append(next, i)
		}
		if len(next) == 0 {
			return nil
		}
		if err := p.getScalars(ctx, r, next); err != nil {
			return err
		}
		retry = retry[:0]
		for _, i := range next {
			if unanswered(r, i) {
				retry = append(retry, i)
				continue
			}
			p.log.Info("value read from another object", "value", p.prof.Fields[i].Name,
				"oid", trimDot(p.prof.Fields[i].Source(p.src[i]).OID), "source", p.src[i])
		}
	}
	return nil
}
