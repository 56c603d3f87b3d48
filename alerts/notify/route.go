package notify

import (
	"slices"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/rules"
)

// Target is one addressee of a send: a person over their channels, or a
// group over its own channels (a robot), its members mentioned.
type Target struct {
	Key        string // the person's or group's name
	Title      string // the person's title (科主任)
	Group      bool
	Recipients []channels.Recipient
	Channels   []string
	Why        string // how this target was chosen
}

// Address is what the delivery record shows of where a send went.
func (t Target) Address() string {
	if t.Group || len(t.Recipients) != 1 {
		return t.Key
	}
	r := t.Recipients[0]
	for _, s := range []string{r.Mobile, r.WeComUser, r.Email} {
		if s != "" {
			return s
		}
	}
	return t.Key
}

// Match returns the first route for an alarm of site, room and severity
// at t, or nil.
func (c *Config) Match(site, room string, sev rules.Severity, t time.Time) *Route {
	t = t.In(c.Location())
	for i := range c.Routes {
		r := &c.Routes[i]
		if (len(r.Sites) == 0 || slices.Contains(r.Sites, site)) &&
			(len(r.Rooms) == 0 || slices.Contains(r.Rooms, room)) &&
			(len(r.Severities) == 0 || slices.Contains(r.Severities, sev)) &&
			(r.hours == nil || r.hours.Contains(t)) {
			return r
		}
	}
	return nil
}

// Targets expands a level's list (people, groups, on-duty) at t, each
// addressee once, the first reason kept. A group with channels of its own
// (a robot) is told there, its members mentioned; a group without is its
// members.
func (c *Config) Targets(to []string, t time.Time, why string) []Target {
	var out []Target
	add := func(tg Target) {
		if !slices.ContainsFunc(out, func(o Target) bool { return o.Key == tg.Key && o.Group == tg.Group }) {
			out = append(out, tg)
		}
	}
	addPerson := func(name, reason string) {
		if p, ok := c.person(name); ok {
			add(Target{Key: p.Name, Title: p.Title, Recipients: []channels.Recipient{recipient(p)}, Channels: p.Channels, Why: reason})
		}
	}
	for _, name := range to {
		switch {
		case name == OnDutyKeyword:
			people, w := c.Roster.OnDuty(t)
			for _, p := range people {
				addPerson(p, join(why, w))
			}
		default:
			if g, ok := c.group(name); ok {
				if len(g.Channels) == 0 {
					for _, m := range g.Members {
						addPerson(m, join(why, "组 "+g.Name))
					}
					continue
				}
				tg := Target{Key: g.Name, Group: true, Channels: g.Channels, Why: join(why, "群 "+g.Name)}
				for _, m := range g.Members {
					if p, ok := c.person(m); ok {
						tg.Recipients = append(tg.Recipients, recipient(p))
					}
				}
				add(tg)
				continue
			}
			addPerson(name, why)
		}
	}
	return out
}

func recipient(p Person) channels.Recipient {
	return channels.Recipient{Name: p.Name, Mobile: p.Mobile, WeComUser: p.WeComUser, Email: p.Email}
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "；" + b
}
