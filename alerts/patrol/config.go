package patrol

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"time"

	"github.com/roomwatch/roomwatch/alerts/unsigned"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is the patrol screen's configuration (the "patrol" section of
// roomwatch.yaml). Zero fields take their defaults through Defaults.
type Config struct {
	// Listen is the screen's address (default 127.0.0.1:9560).
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey serve HTTPS; cookies are then Secure.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// BaseURL is the screen's address as phones reach it, written into
	// the rooms' QR codes (https://patrol.hospital.example). Empty: the
	// address the printing browser used.
	BaseURL string `yaml:"base_url"`
	// UsersFile is written by `roomwatch user add` (default
	// <state_dir>/patrol-users.yaml).
	UsersFile string `yaml:"users_file"`
	// KeyFile holds the key that signs QR tokens, generated at first
	// start (default <state_dir>/patrol.key).
	KeyFile string `yaml:"key_file"`
	// Presence is how long a scanned room code allows signing that
	// room's record (default 15m).
	Presence time.Duration `yaml:"presence"`
	// QRValidity is how long a printed code is valid (default 180 days):
	// print new ones before, old ones are refused after.
	QRValidity time.Duration `yaml:"qr_validity"`
	// SessionTTL is how long a login lasts (default 12h: one shift).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Bucket keeps manual ticks, signatures and presence marks (default
	// roomwatch_patrol); SessionBucket the logins (roomwatch_patrol_sessions).
	Bucket        string `yaml:"bucket"`
	SessionBucket string `yaml:"session_bucket"`
	// Replicas of the patrol buckets and the audit stream (default 1).
	Replicas int `yaml:"replicas"`
	// LoginAttempts failed logins per client address and per user name
	// are allowed within LoginWindow (defaults 5 in 10m).
	LoginAttempts int           `yaml:"login_attempts"`
	LoginWindow   time.Duration `yaml:"login_window"`
	// ManualItems are the items a person checks by eye in every room,
	// unless the room lists its own.
	ManualItems []ManualItem `yaml:"manual_items"`
	// Rooms adds per-room settings by room name.
	Rooms map[string]RoomConfig `yaml:"rooms"`
	// Unsigned, when set, raises the alarm patrol-unsigned for a room
	// whose day is not signed by its hour (alerts/unsigned), judged by
	// the signatures kept here.
	Unsigned *unsigned.Config `yaml:"unsigned"`
}

// RoomConfig is one room's patrol settings.
type RoomConfig struct {
	ManualItems []ManualItem `yaml:"manual_items"`
}

// ManualItem is one item of the checklist a person ticks.
type ManualItem struct {
	ID      string `yaml:"id"`
	Title   string `yaml:"title"`
	TitleEN string `yaml:"title_en"`
}

var itemIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// DefaultManualItems are the items of the paper form checked by eye.
func DefaultManualItems() []ManualItem {
	return []ManualItem{
		{ID: "extinguisher", Title: "灭火器在位、压力正常", TitleEN: "Fire extinguisher in place, pressure normal"},
		{ID: "indicators", Title: "设备指示灯无告警", TitleEN: "Device indicator lights show no fault"},
		{ID: "cleanliness", Title: "机房整洁、无杂物", TitleEN: "Room clean and clear"},
		{ID: "backup", Title: "昨夜备份成功", TitleEN: "Last night's backup succeeded"},
	}
}

// DefaultConfig returns the defaults (paths relative to the state dir
// are filled by Defaults).
func DefaultConfig() Config {
	return Config{
		Listen: "127.0.0.1:9560", Presence: 15 * time.Minute, QRValidity: 180 * 24 * time.Hour,
		SessionTTL: 12 * time.Hour, Bucket: "roomwatch_patrol", SessionBucket: "roomwatch_patrol_sessions",
		Replicas: 1, LoginAttempts: 5, LoginWindow: 10 * time.Minute,
	}
}

// Defaults fills zero fields; stateDir is where the users file and the
// key go by default.
func (c *Config) Defaults(stateDir string) {
	d := DefaultConfig()
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	set(&c.Listen, d.Listen)
	set(&c.Bucket, d.Bucket)
	set(&c.SessionBucket, d.SessionBucket)
	set(&c.UsersFile, filepath.Join(stateDir, "patrol-users.yaml"))
	set(&c.KeyFile, filepath.Join(stateDir, "patrol.key"))
	setD(&c.Presence, d.Presence)
	setD(&c.QRValidity, d.QRValidity)
	setD(&c.SessionTTL, d.SessionTTL)
	setD(&c.LoginWindow, d.LoginWindow)
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.LoginAttempts == 0 {
		c.LoginAttempts = d.LoginAttempts
	}
	if len(c.ManualItems) == 0 {
		c.ManualItems = DefaultManualItems()
	}
	if c.Unsigned != nil {
		c.Unsigned.Defaults()
	}
}

// Validate adds every problem of c to errs, naming fields under path.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs.Addf(path+".tls_cert", "tls_cert and tls_key go together")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.Addf(path+".base_url", "%q: want http(s)://host[:port]", c.BaseURL)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"presence", c.Presence}, {"qr_validity", c.QRValidity}, {"session_ttl", c.SessionTTL}, {"login_window", c.LoginWindow}} {
		if d.v <= 0 {
			errs.Addf(path+"."+d.name, "must be positive")
		}
	}
	if c.Presence > 24*time.Hour {
		errs.Addf(path+".presence", "%v: at most 24h (it proves someone was in the room)", c.Presence)
	}
	if c.LoginAttempts < 1 {
		errs.Addf(path+".login_attempts", "must be at least 1")
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs.Addf(path+".replicas", "must be 1 to 5")
	}
	checkItems(errs, path+".manual_items", c.ManualItems)
	for name, r := range c.Rooms {
		checkItems(errs, fmt.Sprintf("%s.rooms.%s.manual_items", path, name), r.ManualItems)
	}
	if c.Unsigned != nil {
		c.Unsigned.Validate(errs, path+".unsigned")
	}
}

func checkItems(errs *yamlconf.Errors, path string, items []ManualItem) {
	seen := map[string]bool{}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !itemIDRE.MatchString(it.ID):
			errs.Addf(p+".id", "%q: lower-case letters, digits, - and _", it.ID)
		case seen[it.ID]:
			errs.Addf(p+".id", "%q appears twice", it.ID)
		}
		seen[it.ID] = true
		if it.Title == "" {
			errs.Addf(p+".title", "missing")
		}
	}
}

// Items returns the manual items of room.
func (c *Config) Items(room string) []ManualItem {
	if r, ok := c.Rooms[room]; ok && len(r.ManualItems) > 0 {
		return r.ManualItems
	}
	return c.ManualItems
}

// Room is one room the screen shows, from the monitor's inventory.
type Room struct {
	Site, Name, Title, TitleEN string
	// CarryTime is how long the UPS must carry the room on battery.
	CarryTime time.Duration
	// Loc is the site's time zone: days and times are shown in it.
	Loc *time.Location
}

// Label is the room's title in lang.
func (r *Room) Label(lang string) string {
	if lang == "en" && r.TitleEN != "" {
		return r.TitleEN
	}
	if r.Title != "" {
		return r.Title
	}
	return r.Name
}
