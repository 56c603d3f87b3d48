package rules

import (
	"slices"

	"github.com/roomwatch/roomwatch/collectors"
)

// index finds candidate rules for a device by the most selective field
// each rule matches on, so evaluation cost does not grow with the total
// number of rules.
type index struct {
	byDevice, byRoom, byProfile, byClass, bySite map[string][]*crule
	all                                          []*crule
}

// buildIndex files each rule under the most selective field it matches on.
func buildIndex(rs []*crule) index {
	ix := index{byDevice: map[string][]*crule{}, byRoom: map[string][]*crule{},
		byProfile: map[string][]*crule{}, byClass: map[string][]*crule{}, bySite: map[string][]*crule{}}
	for _, c := range rs {
		m := c.r.Match
		switch {
		case m.Device != "":
			ix.byDevice[m.Device] = append(ix.byDevice[m.Device], c)
		case m.Room != "":
			ix.byRoom[m.Room] = append(ix.byRoom[m.Room], c)
		case m.Profile != "":
			ix.byProfile[m.Profile] = append(ix.byProfile[m.Profile], c)
		case m.Class != "":
			ix.byClass[m.Class] = append(ix.byClass[m.Class], c)
		case m.Site != "":
			ix.bySite[m.Site] = append(ix.bySite[m.Site], c)
		default:
			ix.all = append(ix.all, c)
		}
	}
	return ix
}

// lookup returns the rules matching d, in rule order.
func (ix *index) lookup(d collectors.Device) []*crule {
	var out []*crule
	for _, list := range [][]*crule{ix.byDevice[d.Name], ix.byRoom[d.Room], ix.byProfile[d.Profile],
		ix.byClass[d.Class], ix.bySite[d.Site], ix.all} {
		for _, c := range list {
			if c.r.Match.matches(d) {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b *crule) int { return a.idx - b.idx })
	return out
}

// matches reports whether d is one of the devices m selects.
func (m *Match) matches(d collectors.Device) bool {
	if (m.Site != "" && m.Site != d.Site) || (m.Room != "" && m.Room != d.Room) ||
		(m.Device != "" && m.Device != d.Name) || (m.Profile != "" && m.Profile != d.Profile) ||
		(m.Class != "" && m.Class != d.Class) {
		return false
	}
	for k, v := range m.Labels {
		if d.Labels[k] != v {
			return false
		}
	}
	return true
}
