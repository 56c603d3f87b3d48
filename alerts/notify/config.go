package notify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

// Config is the notifier's configuration (the "notify" section).
type Config struct {
	// Sites are the sites whose alarm streams are consumed; default: the
	// sites of the configuration file.
	Sites []string `yaml:"sites"`
	// Timezone of routes, roster, quiet hours and self-test; default
	// Asia/Shanghai.
	Timezone string `yaml:"timezone"`
	// Consumer is the durable consumer name every notifier instance
	// shares (default roomwatch-notify).
	Consumer string `yaml:"consumer"`
	// AckWait is how long JetStream waits for an acknowledgement before
	// handing a message to another instance; a notifier holding messages
	// in its queues reports progress before then (default 30s).
	AckWait time.Duration `yaml:"ack_wait"`
	// ClaimLease is how long a claimed send stays another instance's: a
	// claim older than this (its owner died mid-send) is taken over. It
	// must be longer than the slowest channel's send.
	ClaimLease time.Duration `yaml:"claim_lease"`

	Channels []ChannelConfig `yaml:"channels"`
	People   []Person        `yaml:"people"`
	Groups   []Group         `yaml:"groups"`
	Roster   Roster          `yaml:"roster"`
	Routes   []Route         `yaml:"routes"`

	// Storm groups the alarms of one site that arrive within Window into
	// one message per person and channel; 0s turns grouping off.
	Storm Storm `yaml:"storm"`
	// PerPerson limits the messages to one person ("10/h"); critical
	// messages are never held back by it.
	PerPerson string `yaml:"per_person"`
	// QuietHours hold back warnings (never critical alarms) until they end.
	QuietHours *Quiet `yaml:"quiet_hours"`
	// Retry is the back-off of failed sends; after Attempts the send is
	// dead-lettered and the channel raises notify-channel-failing.
	Retry Backoff `yaml:"retry"`
	// DeadMan pages the person on duty when a site's heartbeat is silent.
	DeadMan DeadMan `yaml:"deadman"`
	// SelfTest sends a daily message proving the path.
	SelfTest *SelfTest `yaml:"selftest"`
	// Template renders one alarm line of a message (text/template).
	Template string `yaml:"template"`

	loc       *time.Location
	perPerson Rate
	tmpl      *lineTemplate
}

// Person is someone who can be told.
type Person struct {
	Name      string   `yaml:"name"`  // 张三; unique among people and groups
	Title     string   `yaml:"title"` // 科主任
	Mobile    string   `yaml:"mobile"`
	WeComUser string   `yaml:"wecom_user"`
	Email     string   `yaml:"email"`
	Channels  []string `yaml:"channels"` // the channels that reach this person, each used
}

// Group is a set of people, told one by one; a group with Channels (a
// WeCom or DingTalk robot) is told once over each instead, its members
// @-mentioned.
type Group struct {
	Name     string   `yaml:"name"`
	Members  []string `yaml:"members"`
	Channels []string `yaml:"channels"`
}

// Route sends matching alarms along a chain of levels.
type Route struct {
	Name string `yaml:"name"`
	// Sites, Rooms and Severities match an alarm; empty matches all.
	Sites      []string         `yaml:"sites"`
	Rooms      []string         `yaml:"rooms"`
	Severities []rules.Severity `yaml:"severities"`
	// Hours limits the route to a daily span ("08:00-18:00", may cross
	// midnight); empty: all day.
	Hours string `yaml:"hours"`
	// Levels is the escalation chain: level 0 at once, each next one when
	// the alarm is still unacknowledged After its start.
	Levels []Level `yaml:"levels"`
	// Repeat repeats a critical alarm to its current level this often
	// until it is acknowledged or resolved (default 10m; 0s: never).
	Repeat *time.Duration `yaml:"repeat"`

	hours *Span
}

// Level is one step of an escalation chain.
type Level struct {
	After time.Duration `yaml:"after"`
	// To are people, groups or "on-duty".
	To []string `yaml:"to"`
}

// Storm is the grouping window.
type Storm struct {
	Window time.Duration `yaml:"window"`
}

// Quiet is the quiet hours.
type Quiet struct {
	Hours string `yaml:"hours"` // "22:00-07:00"
	// Severities held back (default [warning]); critical is refused.
	Severities []rules.Severity `yaml:"severities"`

	span Span
}

// DeadMan is the dead man's switch.
type DeadMan struct {
	// Silence is how long a site's heartbeat may be missing before the
	// person on duty is paged (default 60s; 0s: off).
	Silence time.Duration `yaml:"silence"`
	To      []string      `yaml:"to"` // default [on-duty]
}

// SelfTest is the daily self-test message.
type SelfTest struct {
	At string   `yaml:"at"` // "09:00" local time
	To []string `yaml:"to"` // default [on-duty]

	at int
}

// DefaultConfig returns the defaults, applied before decoding.
func DefaultConfig() Config {
	return Config{
		Timezone:   rules.DefaultTimezone,
		Consumer:   "roomwatch-notify",
		AckWait:    30 * time.Second,
		ClaimLease: 2 * time.Minute,
		Storm:      Storm{Window: 10 * time.Second},
		Retry:      DefaultBackoff(),
		DeadMan:    DeadMan{Silence: 60 * time.Second},
	}
}

// UnmarshalYAML applies the defaults under what the file gives.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Config
	d := DefaultConfig()
	if err := unmarshal((*plain)(&d)); err != nil {
		return err
	}
	*c = d
	return nil
}

var mobileRE = regexp.MustCompile(`^(\+[1-9][0-9]{6,14}|1[3-9][0-9]{9})$`)

// ValidMobile reports whether s is a Chinese mobile number (13800138000)
// or an E.164 number (+8613800138000).
func ValidMobile(s string) bool { return mobileRE.MatchString(s) }

// Validate adds every problem of c to errs under path ("notify"); sites
// are the configured sites (for checking Sites and routes). It prepares
// c for use: call it before New.
func (c *Config) Validate(errs *yamlconf.Errors, path string, sites []string) {
	loc := yamlconf.Location(errs, path+".timezone", c.Timezone)
	c.loc = loc
	var err error
	for i, s := range c.Sites {
		if len(sites) > 0 && !slices.Contains(sites, s) {
			errs.Addf(fmt.Sprintf("%s.sites[%d]", path, i), "unknown site %q (have %v)", s, sites)
		}
	}
	if len(c.Sites) == 0 {
		c.Sites = sites
	}
	if c.Consumer == "" || strings.ContainsAny(c.Consumer, ". *>") {
		errs.Addf(path+".consumer", "%q: a consumer name without dots, spaces or wildcards", c.Consumer)
	}
	if c.AckWait < time.Second {
		errs.Addf(path+".ack_wait", "%v: must be at least 1s", c.AckWait)
	}
	if c.ClaimLease < time.Second {
		errs.Addf(path+".claim_lease", "%v: must be at least 1s", c.ClaimLease)
	}
	chans := map[string]bool{}
	for i := range c.Channels {
		c.Channels[i].validate(errs, fmt.Sprintf("%s.channels[%d]", path, i), chans)
	}
	checkChannels := func(p string, list []string) {
		for j, ch := range list {
			if !chans[ch] {
				errs.Addf(fmt.Sprintf("%s[%d]", p, j), "unknown channel %q", ch)
			}
		}
	}
	names := map[string]string{}
	for i := range c.People {
		pp := fmt.Sprintf("%s.people[%d]", path, i)
		p := &c.People[i]
		if p.Name == "" || p.Name == OnDutyKeyword || names[p.Name] != "" {
			errs.Addf(pp+".name", "%q: missing, reserved or used twice", p.Name)
		}
		names[p.Name] = "person"
		if p.Mobile != "" && !ValidMobile(p.Mobile) {
			errs.Addf(pp+".mobile", "%q: not a mobile number (13800138000 or +8613800138000)", p.Mobile)
		}
		if p.Email != "" && !strings.Contains(p.Email, "@") {
			errs.Addf(pp+".email", "%q: not an e-mail address", p.Email)
		}
		if len(p.Channels) == 0 {
			errs.Addf(pp+".channels", "missing: how is %s told?", p.Name)
		}
		checkChannels(pp+".channels", p.Channels)
	}
	for i := range c.Groups {
		gp := fmt.Sprintf("%s.groups[%d]", path, i)
		g := &c.Groups[i]
		if g.Name == "" || g.Name == OnDutyKeyword || names[g.Name] != "" {
			errs.Addf(gp+".name", "%q: missing, reserved or used twice", g.Name)
		}
		names[g.Name] = "group"
		if len(g.Members) == 0 && len(g.Channels) == 0 {
			errs.Addf(gp+".members", "a group needs members or channels")
		}
		for j, m := range g.Members {
			if names[m] != "person" && !slices.ContainsFunc(c.People, func(p Person) bool { return p.Name == m }) {
				errs.Addf(fmt.Sprintf("%s.members[%d]", gp, j), "unknown person %q", m)
			}
		}
		checkChannels(gp+".channels", g.Channels)
	}
	isPerson := func(n string) bool { return names[n] == "person" }
	checkTargets := func(p string, to []string) {
		if len(to) == 0 {
			errs.Addf(p, "missing: people, groups or %s", OnDutyKeyword)
		}
		for j, t := range to {
			if t == OnDutyKeyword {
				if !c.Roster.Configured() {
					errs.Addf(fmt.Sprintf("%s[%d]", p, j), "%s: no roster configured", OnDutyKeyword)
				}
				continue
			}
			if names[t] == "" {
				errs.Addf(fmt.Sprintf("%s[%d]", p, j), "unknown person or group %q", t)
			}
		}
	}
	c.Roster.compile(errs, path+".roster", loc, isPerson)
	if len(c.Routes) == 0 {
		errs.Addf(path+".routes", "missing: at least one route (who is told of which alarms)")
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		rp := fmt.Sprintf("%s.routes[%d]", path, i)
		if r.Name == "" {
			r.Name = fmt.Sprintf("route-%d", i+1)
		}
		for j, s := range r.Sites {
			if len(sites) > 0 && !slices.Contains(sites, s) {
				errs.Addf(fmt.Sprintf("%s.sites[%d]", rp, j), "unknown site %q", s)
			}
		}
		for j, s := range r.Severities {
			if !s.Valid() {
				errs.Addf(fmt.Sprintf("%s.severities[%d]", rp, j), "%q: want critical, major, minor or warning", s)
			}
		}
		if r.Hours != "" {
			sp, err := ParseSpan(r.Hours)
			if err != nil {
				errs.Addf(rp+".hours", "%v", err)
			}
			r.hours = &sp
		}
		if len(r.Levels) == 0 {
			errs.Addf(rp+".levels", "missing: at least the first level (to: [%s])", OnDutyKeyword)
		}
		for j, l := range r.Levels {
			lp := fmt.Sprintf("%s.levels[%d]", rp, j)
			if j == 0 && l.After != 0 {
				errs.Addf(lp+".after", "the first level is told at once (after: 0s)")
			}
			if j > 0 && l.After <= r.Levels[j-1].After {
				errs.Addf(lp+".after", "%v: must be later than the level before (%v)", l.After, r.Levels[j-1].After)
			}
			checkTargets(lp+".to", l.To)
		}
		if r.Repeat == nil {
			d := 10 * time.Minute
			r.Repeat = &d
		} else if *r.Repeat != 0 && *r.Repeat < time.Minute {
			errs.Addf(rp+".repeat", "%v: at least 1m, or 0s for no repeats", *r.Repeat)
		}
	}
	if c.Storm.Window < 0 || c.Storm.Window > 5*time.Minute {
		errs.Addf(path+".storm.window", "%v: want 0s (off) to 5m", c.Storm.Window)
	}
	if c.perPerson, err = ParseRate(c.PerPerson); err != nil {
		errs.Addf(path+".per_person", "%v", err)
	}
	if q := c.QuietHours; q != nil {
		if q.span, err = ParseSpan(q.Hours); err != nil {
			errs.Addf(path+".quiet_hours.hours", "%v", err)
		}
		if len(q.Severities) == 0 {
			q.Severities = []rules.Severity{rules.Warning}
		}
		for j, s := range q.Severities {
			if s != rules.Warning && s != rules.Minor {
				errs.Addf(fmt.Sprintf("%s.quiet_hours.severities[%d]", path, j), "%q: quiet hours hold back warning or minor alarms only, never %s", s, s)
			}
		}
	}
	c.Retry.validate(errs, path+".retry")
	if c.DeadMan.Silence < 0 || (c.DeadMan.Silence > 0 && c.DeadMan.Silence < 2*time.Second) {
		errs.Addf(path+".deadman.silence", "%v: want 0s (off) or at least 2s", c.DeadMan.Silence)
	}
	if c.DeadMan.Silence > 0 {
		if len(c.DeadMan.To) == 0 {
			c.DeadMan.To = []string{OnDutyKeyword}
		}
		checkTargets(path+".deadman.to", c.DeadMan.To)
	}
	if s := c.SelfTest; s != nil {
		if s.at, err = parseClock(s.At); err != nil || s.at >= 24*60 {
			errs.Addf(path+".selftest.at", "%q: want HH:MM", s.At)
		}
		if len(s.To) == 0 {
			s.To = []string{OnDutyKeyword}
		}
		checkTargets(path+".selftest.to", s.To)
	}
	if c.tmpl, err = parseLineTemplate(c.Template); err != nil {
		errs.Addf(path+".template", "%v", err)
	}
}

// Location is the notifier's time zone (after Validate).
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// person returns the named person.
func (c *Config) person(name string) (Person, bool) {
	i := slices.IndexFunc(c.People, func(p Person) bool { return p.Name == name })
	if i < 0 {
		return Person{}, false
	}
	return c.People[i], true
}

// group returns the named group.
func (c *Config) group(name string) (Group, bool) {
	i := slices.IndexFunc(c.Groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return Group{}, false
	}
	return c.Groups[i], true
}
