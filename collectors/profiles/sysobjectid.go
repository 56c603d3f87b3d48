package profiles

import (
	"sort"
	"strings"
)

// MatchSysObjectID says how well the profile's sysobjectid patterns
// match an agent's sysObjectID: the number of arcs of the longest
// matching pattern, or 0 when none matches.
func (p *Profile) MatchSysObjectID(oid string) int {
	oid = strings.TrimPrefix(oid, ".")
	best := 0
	for _, pat := range p.SysObjectID {
		pat = strings.TrimPrefix(pat, ".")
		n := 0
		if base, ok := strings.CutSuffix(pat, ".*"); ok {
			if oid == base || strings.HasPrefix(oid, base+".") {
				n = strings.Count(base, ".") + 1
			}
		} else if oid == pat {
			// An exact value beats any subtree pattern of the same length.
			n = strings.Count(pat, ".") + 2
		}
		best = max(best, n)
	}
	return best
}

// Candidates lists the SNMP profiles an agent with sysObjectID oid may
// be, best first: those whose sysobjectid patterns match it (longest
// match first), then the generic ones (no patterns, a detect_oid) that
// any agent may serve. Ties go by name, so the order is stable.
func (s Set) Candidates(oid string) []*Profile {
	type cand struct {
		p     *Profile
		score int
	}
	var out []cand
	for _, p := range s {
		if p.Protocol != "snmp" {
			continue
		}
		switch n := p.MatchSysObjectID(oid); {
		case n > 0:
			out = append(out, cand{p, n + 1})
		case len(p.SysObjectID) == 0 && p.DetectOID != "":
			out = append(out, cand{p, 0})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].p.Name < out[j].p.Name
	})
	ps := make([]*Profile, len(out))
	for i, c := range out {
		ps[i] = c.p
	}
	return ps
}
