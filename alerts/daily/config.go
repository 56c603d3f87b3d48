package daily

import (
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is the daily record's configuration (the "daily" section).
type Config struct {
	// TimeZone decides where a day begins (default Asia/Shanghai).
	TimeZone string `yaml:"timezone"`
	// FlushInterval is how often changed records are written to the
	// bucket and published (default 30s); Stop writes them too. A
	// record whose only changes are statistics waits for StatsInterval.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// StatsInterval is how often, at most, a record whose only changes
	// are statistics (counts, minima, maxima, hours, last values,
	// durations) is written (default 5m, and never below FlushInterval).
	// A room's record runs to hundreds of kilobytes by the evening, and
	// every sample changes its statistics; a change a person acts on (a
	// door, mains, a discrete sensor, reachability, a value leaving or
	// re-entering its range, a fault, an alarm, who was told) goes out at
	// the next flush. The patrol screen calls today's record stale when
	// its updated_at is ten minutes old, so keep it well below that.
	StatsInterval time.Duration `yaml:"stats_interval"`
	// MaxGap is the longest time between two polls of a device over
	// which a state (out of range, door open, on battery, unreachable)
	// is assumed to have held (default 5m); a longer gap, such as the
	// monitor being down, counts for nothing.
	MaxGap time.Duration `yaml:"max_gap"`
	// Ranges are the acceptable bands by value name, replacing the
	// defaults name by name.
	Ranges map[string]Range `yaml:"ranges"`
}

func ptr(f float64) *float64 { return &f }

// DefaultRanges are the bands a patrol checks by default: room
// temperature 18–27 °C (GB 50174-2017's recommended cold-aisle range for
// class A and B rooms) and relative humidity 40–60 % (the band patrol
// sheets quote; GB 50174 bounds it by a dew point of 5.5–15 °C and 60 %).
func DefaultRanges() map[string]Range {
	return map[string]Range{
		"temperature_c": {Min: ptr(18), Max: ptr(27)},
		"humidity_pct":  {Min: ptr(40), Max: ptr(60)},
	}
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{TimeZone: "Asia/Shanghai", FlushInterval: 30 * time.Second, StatsInterval: 5 * time.Minute,
		MaxGap: 5 * time.Minute, Ranges: DefaultRanges()}
}

// Defaults fills zero fields from DefaultConfig; configured ranges
// override the default ranges of the same name.
func (c *Config) Defaults() {
	d := DefaultConfig()
	if c.TimeZone == "" {
		c.TimeZone = d.TimeZone
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.StatsInterval == 0 {
		// Never below the flush interval a configuration chose.
		c.StatsInterval = max(d.StatsInterval, c.FlushInterval)
	}
	if c.MaxGap == 0 {
		c.MaxGap = d.MaxGap
	}
	for k, v := range d.Ranges {
		if _, ok := c.Ranges[k]; !ok {
			if c.Ranges == nil {
				c.Ranges = map[string]Range{}
			}
			c.Ranges[k] = v
		}
	}
}

// Validate adds every problem of c to errs, naming fields under path.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs.Addf(path+".timezone", "unknown time zone %q", c.TimeZone)
	}
	if c.FlushInterval < time.Second {
		errs.Addf(path+".flush_interval", "must be at least 1s")
	}
	if c.StatsInterval < c.FlushInterval {
		errs.Addf(path+".stats_interval", "%s: must be at least flush_interval (%s)", c.StatsInterval, c.FlushInterval)
	}
	if c.MaxGap <= 0 {
		errs.Addf(path+".max_gap", "must be positive")
	}
	for name, r := range c.Ranges {
		if r.Min == nil && r.Max == nil {
			errs.Addf(path+".ranges."+name, "needs min or max")
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			errs.Addf(path+".ranges."+name, "min %g above max %g", *r.Min, *r.Max)
		}
	}
}
