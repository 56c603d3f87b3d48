package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
	"github.com/roomwatch/roomwatch/alerts/incident"
	"github.com/roomwatch/roomwatch/alerts/notify"
	"github.com/roomwatch/roomwatch/alerts/patrol"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/rules"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/snmp"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is the whole roomwatch.yaml.
type Config struct {
	// ProfilesDir holds user device profiles (*.yaml) added to the
	// built-in ones; relative to the configuration file's folder, as
	// RuleFiles are.
	ProfilesDir string `yaml:"profiles_dir"`
	// StateDir holds the embedded NATS server's JetStream store.
	StateDir string      `yaml:"state_dir"`
	HTTP     HTTPConfig  `yaml:"http"`
	Log      LogConfig   `yaml:"log"`
	Defaults PollDefault `yaml:"defaults"`
	Sites    []Site      `yaml:"sites"`

	// NATS is the embedded server (default) or an external one.
	NATS NATSConfig `yaml:"nats"`
	// Influx is the InfluxDB writer and its spool.
	Influx influx.Config `yaml:"influx"`
	// Alerts is the JetStream layout of alarms and daily records.
	Alerts alerts.Config `yaml:"alerts"`
	// Daily is the daily inspection record (time zone, ranges).
	Daily daily.Config `yaml:"daily"`
	// Incidents, when set, opens incidents from alarms of its classes and
	// runs their reporting clocks (alerts/incident).
	Incidents *incident.Config `yaml:"incidents"`
	// RuleFiles are rules files (calendars and rules) merged over the
	// default rule set: a rule of the same name replaces the default one,
	// `disabled: true` removes it.
	RuleFiles []string `yaml:"rule_files"`
	// DefaultRules loads the shipped rule set (rules/default.yaml).
	DefaultRules bool `yaml:"default_rules"`
	// HolidaysFile lists the public holidays and make-up working days
	// (调休上班) for calendars with `public_holidays: true`, relative to
	// the configuration file's folder (deploy/calendars/holidays.yaml); the
	// built-in list covers the years it does not give.
	HolidaysFile string `yaml:"holidays_file"`
	// Patrol is the patrol sign-off screen; `roomwatch run` serves it
	// when the section is present.
	Patrol *patrol.Config `yaml:"patrol"`
	// Notify, when present, runs the notifier in `roomwatch run` and
	// configures `roomwatch notify`.
	Notify *notify.Config `yaml:"notify"`

	file     *yamlconf.File
	holidays *rules.Holidays // the holidays file, for the duty roster's calendar too
	profiles profiles.Set
	rules    []rules.Rule
}

// HTTPConfig is the self-monitoring listener (/metrics, /healthz).
type HTTPConfig struct {
	Listen string `yaml:"listen"`
	// Pprof serves /debug/pprof/ on a listener that is not loopback (on
	// loopback it is always served). See servesPprof.
	Pprof bool `yaml:"pprof"`
}

// LogConfig sets structured logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// PollDefault applies to every device that does not set its own.
type PollDefault struct {
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	Retries  *int          `yaml:"retries"`
}

// Site is one hospital campus (one roomwatch process per site).
type Site struct {
	Name     string `yaml:"name"`
	Title    string `yaml:"title"`
	TitleEN  string `yaml:"title_en"`
	TimeZone string `yaml:"timezone"`
	// Rules change rules for the whole site, by rule name: threshold,
	// for and severity (room-temperature-high: {for: 10m}).
	Rules map[string]rules.Override `yaml:"rules"`
	Rooms []Room                    `yaml:"rooms"`
}

// Room is a machine room or switch room.
type Room struct {
	Name    string `yaml:"name"`
	Title   string `yaml:"title"`
	TitleEN string `yaml:"title_en"`
	// CarryTime is how long the UPS must carry this room's load on
	// battery (hospitals quote 3, 6 or 8 hours).
	CarryTime time.Duration `yaml:"carry_time"`
	// Thresholds overrides rule thresholds for this room, by rule name
	// (room-temperature-high: 30): short for rules: {NAME: {threshold: 30}}.
	Thresholds map[string]float64 `yaml:"thresholds"`
	// Rules change rules for this room, by rule name: threshold, for and
	// severity (room-temperature-high: {threshold: 25, for: 10m}), over
	// the site's.
	Rules   map[string]rules.Override `yaml:"rules"`
	Devices []DeviceEntry             `yaml:"devices"`
}

// DeviceEntry is one device in the configuration file.
type DeviceEntry struct {
	Name string `yaml:"name"`
	// Title and TitleEN name the device for people (UPS 主机, Main
	// UPS); alarm texts show them after the room's title.
	Title   string `yaml:"title"`
	TitleEN string `yaml:"title_en"`
	Profile string `yaml:"profile"`
	// URL says where and how to reach the device (see collectors.Target),
	// or "sim" for a device served by the built-in simulator.
	URL          string          `yaml:"url"`
	Community    yamlconf.Secret `yaml:"community"`
	AuthPassword yamlconf.Secret `yaml:"auth_password"`
	PrivPassword yamlconf.Secret `yaml:"priv_password"`
	Interval     time.Duration   `yaml:"interval"`
	Timeout      time.Duration   `yaml:"timeout"`
	Retries      *int            `yaml:"retries"`
	// Invert lists bool values wired normally-closed on this device.
	Invert []string          `yaml:"invert"`
	Labels map[string]string `yaml:"labels"`
}

// SimURL marks a device served by the built-in simulator.
const SimURL = "sim"

// Defaults applied before decoding.
func defaultConfig() Config {
	return Config{
		StateDir:     "/var/lib/roomwatch",
		HTTP:         HTTPConfig{Listen: "127.0.0.1:9550"},
		Log:          LogConfig{Level: "info", Format: "text"},
		Defaults:     PollDefault{Interval: 10 * time.Second, Timeout: 5 * time.Second},
		NATS:         defaultNATSConfig(),
		Influx:       defaultInfluxConfig(),
		Alerts:       alerts.DefaultConfig(),
		Daily:        daily.DefaultConfig(),
		DefaultRules: true,
	}
}

func defaultInfluxConfig() influx.Config {
	c := influx.DefaultConfig()
	c.URL = "http://127.0.0.1:8086"
	c.Bucket = "roomwatch/autogen"
	return c
}

// loadConfig reads, decodes and validates a configuration file.
func loadConfig(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data)
}

// readConfigFile reads a file given on the command line; a missing one
// is named with the path tried and what to do.
func readConfigFile(path string) ([]byte, error) {
	data, err := yamlconf.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(path)
		return nil, fmt.Errorf("%s: no such configuration file (looked for %s): give its path with --config FILE, or start from deploy/single-room.yaml", path, abs)
	}
	return data, err
}

func parseConfig(path string, data []byte) (*Config, error) {
	c := defaultConfig()
	f, err := yamlconf.Decode(path, data, &c)
	if err != nil {
		return nil, hintRuleKeys(err)
	}
	if f.Empty() {
		return nil, yamlconf.List{{File: path, Msg: "the file is empty: a configuration names at least its sites, rooms and devices (start from deploy/single-room.yaml)"}}
	}
	c.file = f
	if c.NATS.StoreDir == defaultNATSStoreDir && c.StateDir != "" {
		c.NATS.StoreDir = filepath.Join(c.StateDir, "jetstream")
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// hintRuleKeys adds to an unknown top-level "calendars" or "rules" that
// they belong in a rules file.
func hintRuleKeys(err error) error {
	var l yamlconf.List
	if errors.As(err, &l) {
		for i, p := range l {
			if p.Path == "" && (p.Msg == `unknown field "calendars"` || p.Msg == `unknown field "rules"`) {
				l[i].Msg += " (calendars and rules go in a rules file listed under rule_files; roomwatch check FILE checks one)"
			}
		}
	}
	return err
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (c *Config) validate() error {
	errs := yamlconf.Errors{File: c.file}
	set, err := profiles.Load(c.relative(c.ProfilesDir))
	if err != nil {
		errs.Add("profiles_dir", err)
		set, _ = profiles.Builtin()
	}
	c.profiles = set
	if err := yamlconf.CheckHostPort(c.HTTP.Listen); err != nil {
		errs.Addf("http.listen", "%v", err)
	}
	if len(c.Sites) == 0 {
		errs.Addf("sites", "missing: a configuration lists at least one site with its rooms and devices")
	}
	if c.Defaults.Interval <= 0 {
		errs.Addf("defaults.interval", "must be positive")
	}
	if c.Defaults.Timeout <= 0 {
		errs.Addf("defaults.timeout", "must be positive")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs.Addf("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs.Addf("log.format", "%q: want text or json", c.Log.Format)
	}
	c.NATS.Validate(&errs, "nats")
	c.Influx.Validate(&errs, "influx")
	c.Alerts.Validate(&errs, "alerts")
	c.Daily.Validate(&errs, "daily")
	if c.Incidents != nil {
		c.Incidents.Defaults()
		c.Incidents.Validate(&errs, "incidents")
	}
	if c.Patrol != nil {
		c.Patrol.Defaults(c.StateDir)
		c.Patrol.Validate(&errs, "patrol")
	}
	c.loadRules(&errs)
	sites := map[string]bool{}
	for i := range c.Sites {
		s := &c.Sites[i]
		sp := fmt.Sprintf("sites[%d]", i)
		checkName(&errs, sp+".name", "site", s.Name, sites)
		if s.TimeZone == "" {
			s.TimeZone = "Asia/Shanghai"
		}
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			errs.Addf(sp+".timezone", "%q: %v", s.TimeZone, err)
		}
		rules.ValidateOverrides(&errs, sp+".rules", c.rules, s.Rules)
		rooms := map[string]bool{}
		for j := range s.Rooms {
			r := &s.Rooms[j]
			rp := fmt.Sprintf("%s.rooms[%d]", sp, j)
			checkName(&errs, rp+".name", "room", r.Name, rooms)
			if r.CarryTime < 0 {
				errs.Addf(rp+".carry_time", "must not be negative")
			}
			for name := range r.Thresholds {
				if o, ok := r.Rules[name]; ok && o.Threshold != nil {
					errs.Addf(rp+".rules."+name+".threshold", "also set in thresholds: set it once")
				}
			}
			rules.ValidateOverrides(&errs, rp+".thresholds", c.rules, thresholdOverrides(r.Thresholds))
			rules.ValidateOverrides(&errs, rp+".rules", c.rules, r.Rules)
			devs := map[string]bool{}
			for k := range r.Devices {
				c.validateDevice(&errs, fmt.Sprintf("%s.devices[%d]", rp, k), &r.Devices[k], devs)
			}
		}
	}
	if c.Notify != nil {
		var names []string
		for _, s := range c.Sites {
			names = append(names, s.Name)
		}
		c.Notify.Validate(&errs, "notify", names)
		if cal := c.Notify.Roster.Calendar; cal != nil {
			cal.UseHolidays(c.holidays)
		}
	}
	return errs.Err()
}

// loadRules reads the default rule set and the rule files, relative to
// the configuration file's folder.
func (c *Config) loadRules(errs *yamlconf.Errors) {
	if c.DefaultRules {
		def, err := rules.Default()
		if err != nil {
			errs.Addf("default_rules", "%v", err)
		}
		c.rules = def
	}
	for i, f := range c.RuleFiles {
		path := c.relative(f)
		data, err := yamlconf.ReadFile(path)
		if err != nil {
			errs.Addf(fmt.Sprintf("rule_files[%d]", i), "%v (a relative path starts at the configuration's folder)", err)
			continue
		}
		more, err := rules.Parse(path, data)
		if err != nil {
			errs.Add(fmt.Sprintf("rule_files[%d]", i), err)
			continue
		}
		c.rules = rules.Merge(c.rules, more)
	}
	if c.HolidaysFile != "" {
		path := c.relative(c.HolidaysFile)
		data, err := yamlconf.ReadFile(path)
		if err != nil {
			errs.Addf("holidays_file", "%v", err)
			return
		}
		h, err := rules.ParseHolidays(path, data)
		if err != nil {
			errs.Add("holidays_file", err)
			return
		}
		rules.ApplyHolidays(c.rules, h)
		c.holidays = h
	}
}

// calendarAhead is how far ahead `check` wants the calendars' public
// holidays known.
const calendarAhead = 60 * 24 * time.Hour

// warnings are what `check` reports about a valid configuration that
// will need attention, as of now: calendars whose public holidays run
// out within calendarAhead.
func (c *Config) warnings(now time.Time) []string {
	return rules.CalendarWarnings(c.rules, now, calendarAhead)
}

// overrides returns the room's rule overrides, its thresholds included.
func (r *Room) overrides() map[string]rules.Override {
	out := thresholdOverrides(r.Thresholds)
	for name, o := range r.Rules {
		if o.Threshold == nil {
			o.Threshold = out[name].Threshold
		}
		out[name] = o
	}
	return out
}

// thresholdOverrides turns a room's thresholds into rule overrides.
func thresholdOverrides(th map[string]float64) map[string]rules.Override {
	out := make(map[string]rules.Override, len(th))
	for name, v := range th {
		out[name] = rules.Override{Threshold: &v}
	}
	return out
}

// relative resolves a path given in the configuration file against the
// file's folder (an absolute path stays as it is).
func (c *Config) relative(path string) string {
	if path == "" || filepath.IsAbs(path) || c.file == nil {
		return path
	}
	return filepath.Join(filepath.Dir(c.file.Name), path)
}

// checkName records a problem with a site, room or device name: missing,
// not usable as a subject token and tag, or used twice among seen.
func checkName(errs *yamlconf.Errors, path, kind, name string, seen map[string]bool) {
	switch {
	case name == "":
		errs.Addf(path, "missing %s name", kind)
	case !nameRE.MatchString(name):
		errs.Addf(path, "%q: a %s name is lower-case letters, digits, - and _ (it becomes a NATS subject token and an InfluxDB tag)", name, kind)
	case seen[name]:
		errs.Addf(path, "%s %q appears twice", kind, name)
	}
	seen[name] = true
}

func (c *Config) validateDevice(errs *yamlconf.Errors, dp string, d *DeviceEntry, seen map[string]bool) {
	checkName(errs, dp+".name", "device", d.Name, seen)
	if d.Interval == 0 {
		d.Interval = c.Defaults.Interval
	}
	if d.Timeout == 0 {
		d.Timeout = min(c.Defaults.Timeout, d.Interval)
	}
	if d.Retries == nil {
		r := 1
		if c.Defaults.Retries != nil {
			r = *c.Defaults.Retries
		}
		d.Retries = &r
	}
	if d.Interval < 100*time.Millisecond {
		errs.Addf(dp+".interval", "%v: must be at least 100ms", d.Interval)
	}
	if d.Timeout <= 0 || d.Timeout > d.Interval {
		errs.Addf(dp+".timeout", "%v: must be positive and at most the interval (%v), or the next poll would start before this one ends", d.Timeout, d.Interval)
	}
	if *d.Retries < 0 || *d.Retries > 10 {
		errs.Addf(dp+".retries", "%d: want 0 to 10", *d.Retries)
	}
	if d.Profile == snmp.ProfileAuto {
		c.validateAuto(d, dp, errs)
		return
	}
	p, ok := c.profiles[d.Profile]
	if !ok {
		errs.Addf(dp+".profile", "unknown profile %q (have %v, or auto for an SNMP device)", d.Profile, c.profiles.Names())
	}
	if d.URL == SimURL {
		return
	}
	t, err := collectors.ParseTarget(d.URL)
	if err != nil {
		errs.Addf(dp+".url", "%v", err)
		return
	}
	if ok && t.Protocol() != p.Protocol {
		errs.Addf(dp+".url", "profile %s speaks %s but the URL is %s", p.Name, p.Protocol, t.Scheme)
	}
	if ok {
		for _, n := range d.Invert {
			if f, found := p.Field(n); !found || f.Kind() != collectors.Bool {
				errs.Addf(dp+".invert", "%q is not a bool value of profile %s", n, p.Name)
			}
		}
	}
}

// validateAuto checks a device with `profile: auto`: an SNMP device whose
// profile is detected when it is first polled.
func (c *Config) validateAuto(d *DeviceEntry, dp string, errs *yamlconf.Errors) {
	if d.URL == SimURL {
		errs.Addf(dp+".profile", "auto: a simulated device needs a named profile (the simulator serves that profile)")
		return
	}
	if len(d.Invert) > 0 {
		errs.Addf(dp+".invert", "needs a named profile, not auto (which values are bools depends on the profile)")
	}
	t, err := collectors.ParseTarget(d.URL)
	if err != nil {
		errs.Addf(dp+".url", "%v", err)
		return
	}
	if t.Scheme != collectors.SchemeSNMP {
		errs.Addf(dp+".profile", "auto works for snmp:// devices only (a Modbus unit does not say what it is): name a profile (%v)", c.profiles.Names())
	}
}

// autoValues is the most values an auto-detected device may yield: the
// largest SNMP profile's.
func (c *Config) autoValues() int {
	n := 0
	for _, p := range c.profiles {
		if p.Protocol == "snmp" {
			n = max(n, len(p.Fields))
		}
	}
	return n
}

// loads is what the configured devices put into the spool, by the value
// count of their profiles (for sizing it before any poller exists).
func (c *Config) loads() []influx.Load {
	var out []influx.Load
	for _, s := range c.Sites {
		for _, r := range s.Rooms {
			for _, d := range r.Devices {
				if p, ok := c.profiles[d.Profile]; ok {
					out = append(out, influx.Load{Values: len(p.Fields), Interval: d.Interval})
				} else if d.Profile == snmp.ProfileAuto {
					out = append(out, influx.Load{Values: c.autoValues(), Interval: d.Interval})
				}
			}
		}
	}
	return out
}

// device is the identity of a configured device, its class taken from
// its profile.
func (c *Config) device(site, room string, d *DeviceEntry) collectors.Device {
	dev := collectors.Device{Site: site, Room: room, Name: d.Name, Profile: d.Profile, Labels: d.Labels}
	if p, ok := c.profiles[d.Profile]; ok {
		dev.Class = p.Class
	}
	return dev
}

// deviceConfigs turns the inventory into poll configurations. sim maps a
// simulated device's ID to the URL of its running simulator.
func (c *Config) deviceConfigs(sim map[string]string) ([]collectors.DeviceConfig, error) {
	var out []collectors.DeviceConfig
	for _, s := range c.Sites {
		for _, r := range s.Rooms {
			for _, d := range r.Devices {
				dev := c.device(s.Name, r.Name, &d)
				url := d.URL
				if url == SimURL {
					url = sim[dev.ID()]
				}
				t, err := collectors.ParseTarget(url)
				if err != nil {
					return nil, fmt.Errorf("device %s: %w", dev.ID(), err)
				}
				if d.Community != "" {
					t.Community = d.Community
				}
				if d.AuthPassword != "" {
					t.AuthPass = d.AuthPassword
				}
				if d.PrivPassword != "" {
					t.PrivPass = d.PrivPassword
				}
				out = append(out, collectors.DeviceConfig{
					Device: dev, Target: t,
					Interval: d.Interval, Timeout: d.Timeout, Retries: *d.Retries,
					Invert: d.Invert,
				})
			}
		}
	}
	return out, nil
}
