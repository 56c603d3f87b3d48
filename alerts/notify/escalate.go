package notify

import (
	"fmt"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

// step is the next thing an unacknowledged alarm is due for: the next
// level of its chain, or a repeat of a critical alarm to its level.
type step struct {
	Kind   string // KindEscalation or KindRepeat
	Level  int
	Repeat int // the repeat's number, from 1
	At     time.Time
}

// key names the step in idempotency keys: L2, R3.
func (s step) key() string {
	if s.Kind == KindRepeat {
		return fmt.Sprintf("L%dR%d", s.Level, s.Repeat)
	}
	return fmt.Sprintf("L%d", s.Level)
}

// nextStep returns p's next step under route r and whether it is due at
// now. An acknowledged or resolved alarm has none.
func nextStep(p *pending, r *Route, now time.Time) (step, bool) {
	if p.Acked || p.Resolved || r == nil {
		return step{}, false
	}
	var next step
	if p.Level+1 < len(r.Levels) {
		next = step{Kind: KindEscalation, Level: p.Level + 1, At: p.Started.Add(r.Levels[p.Level+1].After)}
	}
	if p.Severity == rules.Critical && r.Repeat != nil && *r.Repeat > 0 {
		rep := step{Kind: KindRepeat, Level: p.Level, Repeat: p.Repeats + 1, At: p.LastAt.Add(*r.Repeat)}
		if next.Kind == "" || rep.At.Before(next.At) {
			next = rep
		}
	}
	if next.Kind == "" {
		return step{}, false
	}
	return next, !now.Before(next.At)
}

// advance records in p that step s was sent at now to told.
func advance(p *pending, s step, now time.Time, told []string) {
	if s.Kind == KindEscalation {
		p.Level, p.Repeats = s.Level, 0
	} else {
		p.Repeats = s.Repeat
	}
	p.LastAt = now
	for _, t := range told {
		if !contains(p.Told, t) {
			p.Told = append(p.Told, t)
		}
	}
}

// stepAhead reports whether step s is still ahead of p (not recorded).
func stepAhead(p *pending, s step) bool {
	if s.Kind == KindEscalation {
		return p.Level < s.Level
	}
	return p.Level == s.Level && p.Repeats < s.Repeat
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// routeByName finds the route an alarm was told by; after a reload that
// removed it, the first matching route.
func (c *Config) routeByName(p *pending, now time.Time) *Route {
	for i := range c.Routes {
		if c.Routes[i].Name == p.Route {
			return &c.Routes[i]
		}
	}
	return c.Match(p.Site, p.Room, p.Severity, now)
}

// toldKey names a target in pending.Told.
func toldKey(t Target) string {
	if t.Group {
		return "g:" + t.Key
	}
	return "p:" + t.Key
}

// toldTargets turns pending.Told back into targets, for the resolution.
func (c *Config) toldTargets(told []string) []Target {
	var out []Target
	for _, k := range told {
		name := k[2:]
		switch k[:2] {
		case "p:":
			out = append(out, c.Targets([]string{name}, time.Time{}, "曾被通知")...)
		case "g:":
			if g, ok := c.group(name); ok && len(g.Channels) > 0 {
				tg := Target{Key: g.Name, Group: true, Channels: g.Channels, Why: "曾被通知"}
				for _, m := range g.Members {
					if p, ok := c.person(m); ok {
						tg.Recipients = append(tg.Recipients, recipient(p))
					}
				}
				out = append(out, tg)
			}
		}
	}
	return out
}
