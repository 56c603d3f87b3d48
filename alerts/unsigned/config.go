package unsigned

import (
	"fmt"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is when each room's patrol must be signed.
type Config struct {
	// Timezone is the zone of the hours and of the days (default
	// Asia/Shanghai).
	Timezone string `yaml:"timezone"`
	// Default applies to every room of the inventory not listed in Rooms;
	// nil: only listed rooms are checked.
	Default *Hours `yaml:"default"`
	// Rooms overrides the hours of single rooms.
	Rooms []Room `yaml:"rooms"`
	// Interval is how often the checker looks (default 1m).
	Interval time.Duration `yaml:"interval"`
	// Lookback is how many past days an unsigned patrol's alarm is kept
	// watched for the signature that resolves it (default 7).
	Lookback int `yaml:"lookback_days"`

	loc *time.Location
}

// Hours are the times by which a patrol must be signed, "HH:MM", on a
// working day of the calendar and on a weekend or holiday; empty or
// "none": no patrol is required that day.
type Hours struct {
	Workday string `yaml:"workday"`
	Holiday string `yaml:"holiday"`
}

// Room is one room's hours.
type Room struct {
	Site  string `yaml:"site"`
	Room  string `yaml:"room"`
	Hours `yaml:",inline"`
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	if c.Timezone == "" {
		c.Timezone = "Asia/Shanghai"
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.Lookback == 0 {
		c.Lookback = 7
	}
}

// Validate adds every problem of c to errs, naming fields under path.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	c.loc = yamlconf.Location(errs, yamlconf.Join(path, "timezone"), c.Timezone)
	if c.Interval < time.Second {
		errs.Addf(yamlconf.Join(path, "interval"), "must be at least 1s")
	}
	if c.Lookback < 1 || c.Lookback > 366 {
		errs.Addf(yamlconf.Join(path, "lookback_days"), "must be 1 to 366")
	}
	if c.Default != nil {
		c.Default.validate(errs, yamlconf.Join(path, "default"))
	}
	seen := map[[2]string]bool{}
	for i, r := range c.Rooms {
		p := yamlconf.Join(path, fmt.Sprintf("rooms[%d]", i))
		if r.Site == "" || r.Room == "" {
			errs.Addf(p, "site and room are required")
		}
		if seen[[2]string{r.Site, r.Room}] {
			errs.Addf(p, "room %s/%s is listed above", r.Site, r.Room)
		}
		seen[[2]string{r.Site, r.Room}] = true
		r.validate(errs, p)
	}
}

func (h *Hours) validate(errs *yamlconf.Errors, p string) {
	for _, f := range []struct{ name, v string }{{"workday", h.Workday}, {"holiday", h.Holiday}} {
		if _, _, err := parseHour(f.v); err != nil {
			errs.Addf(yamlconf.Join(p, f.name), "%v", err)
		}
	}
}

// parseHour parses "HH:MM" into minutes since midnight; "" and "none"
// give ok false.
func parseHour(s string) (mins int, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return 0, false, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false, fmt.Errorf("%q: want HH:MM (10:00) or none", s)
	}
	return t.Hour()*60 + t.Minute(), true, nil
}

func (c *Config) location() *time.Location {
	if c.loc == nil {
		c.loc = yamlconf.Location(nil, "", c.Timezone)
	}
	return c.loc
}
