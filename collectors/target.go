package collectors

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Schemes of a device address.
const (
	SchemeSNMP      = "snmp"
	SchemeModbusTCP = "modbus+tcp"
	SchemeModbusRTU = "modbus+rtu"
	SchemeNUT       = "nut"
)

// Target is where and how to reach a device, parsed from a URL:
//
//	snmp://host:161?version=2c&community=public
//	snmp://user@host:161?version=3&auth=SHA&authpass=…&priv=AES&privpass=…
//	modbus+tcp://host:502?unit=1
//	modbus+rtu:///dev/ttyUSB0?baud=9600&parity=N&unit=1
//	nut://host:3493/upsname
//	nut://user:password@host:3493/upsname?login=true
//
// The same form serves the configuration file (device "url") and
// `roomwatch probe`.
type Target struct {
	Scheme string `json:"scheme"`
	// Host is host:port for SNMP, Modbus TCP and NUT.
	Host string `json:"host,omitempty"`
	// Port is the serial device for Modbus RTU.
	Port string `json:"port,omitempty"`

	// SNMP.
	Version   string          `json:"version,omitempty"` // 1, 2c, 3
	Community yamlconf.Secret `json:"-"`
	User      string          `json:"user,omitempty"`
	Auth      string          `json:"auth,omitempty"` // MD5, SHA, SHA224, SHA256, SHA384, SHA512
	AuthPass  yamlconf.Secret `json:"-"`
	Priv      string          `json:"priv,omitempty"` // DES, AES, AES192, AES256, AES192C, AES256C
	PrivPass  yamlconf.Secret `json:"-"`
	Context   string          `json:"context,omitempty"`

	// Modbus.
	Unit     uint8  `json:"unit,omitempty"`
	Baud     int    `json:"baud,omitempty"`
	DataBits int    `json:"data_bits,omitempty"`
	Parity   string `json:"parity,omitempty"` // N, E, O
	StopBits int    `json:"stop_bits,omitempty"`

	// NUT: the UPS name upsd knows; User and Password, when set, are
	// sent as USERNAME and PASSWORD, and Login (login=true) sends LOGIN
	// too, which checks the password but makes upsmon's shutdown wait
	// for roomwatch (HOSTSYNC), so it is off by default.
	UPS      string          `json:"ups,omitempty"`
	Password yamlconf.Secret `json:"-"`
	Login    bool            `json:"login,omitempty"`
}

// Environment variables that supply SNMP secrets left out of a URL.
const (
	EnvCommunity = "ROOMWATCH_SNMP_COMMUNITY"
	EnvAuthPass  = "ROOMWATCH_SNMP_AUTHPASS"
	EnvPrivPass  = "ROOMWATCH_SNMP_PRIVPASS"
	// EnvNUTPassword is the upsd password when a nut:// URL names a
	// user but no password.
	EnvNUTPassword = "ROOMWATCH_NUT_PASSWORD"
)

// ParseTarget parses a device URL. Secrets missing from the URL are taken
// from EnvCommunity, EnvAuthPass and EnvPrivPass when set.
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("device URL: %w", err)
	}
	q := u.Query()
	t := Target{Scheme: u.Scheme}
	known := map[string]bool{}
	get := func(k string) string { known[k] = true; return q.Get(k) }
	atoi := func(k string, def, lo, hi int) (int, error) {
		s := get(k)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("device URL %q: %s=%q: want a whole number from %d to %d", redact(u), k, s, lo, hi)
		}
		return n, nil
	}
	switch u.Scheme {
	case SchemeSNMP:
		t.Host = withPort(u.Host, "161")
		t.Version = get("version")
		if t.Version == "" {
			t.Version = "2c"
		}
		t.Context = get("context")
		switch t.Version {
		case "1", "2c":
			t.Community = yamlconf.Secret(get("community"))
			if t.Community == "" {
				t.Community = yamlconf.Secret(os.Getenv(EnvCommunity))
			}
			if t.Community == "" {
				t.Community = "public"
			}
		case "3":
			if u.User == nil || u.User.Username() == "" {
				return Target{}, fmt.Errorf("device URL %q: SNMPv3 needs a user: snmp://user@host", redact(u))
			}
			t.User = u.User.Username()
			t.Auth = strings.ToUpper(get("auth"))
			t.AuthPass = yamlconf.Secret(get("authpass"))
			if t.AuthPass == "" {
				t.AuthPass = yamlconf.Secret(os.Getenv(EnvAuthPass))
			}
			t.Priv = strings.ToUpper(get("priv"))
			t.PrivPass = yamlconf.Secret(get("privpass"))
			if t.PrivPass == "" {
				t.PrivPass = yamlconf.Secret(os.Getenv(EnvPrivPass))
			}
		default:
			return Target{}, fmt.Errorf("device URL %q: version=%q: want 1, 2c or 3", redact(u), t.Version)
		}
	case SchemeModbusTCP, SchemeModbusRTU:
		unit, err := atoi("unit", 1, 0, 247)
		if err != nil {
			return Target{}, err
		}
		t.Unit = uint8(unit)
		if u.Scheme == SchemeModbusTCP {
			t.Host = withPort(u.Host, "502")
			break
		}
		t.Port = u.Path
		if t.Port == "" {
			return Target{}, fmt.Errorf("device URL %q: want a serial port: modbus+rtu:///dev/ttyUSB0", redact(u))
		}
		if t.Baud, err = atoi("baud", 9600, 300, 921600); err != nil {
			return Target{}, err
		}
		if t.DataBits, err = atoi("databits", 8, 5, 8); err != nil {
			return Target{}, err
		}
		if t.StopBits, err = atoi("stopbits", 1, 1, 2); err != nil {
			return Target{}, err
		}
		t.Parity = strings.ToUpper(get("parity"))
		switch t.Parity {
		case "":
			t.Parity = "N"
		case "N", "E", "O":
		default:
			return Target{}, fmt.Errorf("device URL %q: parity=%q: want N, E or O", redact(u), t.Parity)
		}
	case SchemeNUT:
		t.Host = withPort(u.Host, "3493")
		t.UPS = strings.Trim(u.Path, "/")
		if t.UPS == "" || strings.ContainsAny(t.UPS, "/ \"\\") {
			return Target{}, fmt.Errorf("device URL %q: want the UPS name upsd knows: nut://host:3493/upsname", redact(u))
		}
		if u.User != nil {
			t.User = u.User.Username()
			pw, _ := u.User.Password()
			t.Password = yamlconf.Secret(pw)
			if t.Password == "" {
				t.Password = yamlconf.Secret(os.Getenv(EnvNUTPassword))
			}
		}
		switch get("login") {
		case "", "false":
		case "true":
			if t.User == "" {
				return Target{}, fmt.Errorf("device URL %q: login=true needs a user: nut://user:password@host/ups", redact(u))
			}
			t.Login = true
		default:
			return Target{}, fmt.Errorf("device URL %q: login=%q: want true or false", redact(u), q.Get("login"))
		}
	case "":
		return Target{}, fmt.Errorf("device URL %q: no scheme: want snmp://, modbus+tcp://, modbus+rtu:// or nut://", raw)
	default:
		return Target{}, fmt.Errorf("device URL %q: unknown scheme %q: want snmp, modbus+tcp, modbus+rtu or nut", redact(u), u.Scheme)
	}
	for k := range q {
		if !known[k] {
			return Target{}, fmt.Errorf("device URL %q: unknown parameter %q for %s", redact(u), k, u.Scheme)
		}
	}
	if t.Scheme != SchemeModbusRTU && (t.Host == "" || strings.HasPrefix(t.Host, ":")) {
		return Target{}, fmt.Errorf("device URL %q: no host", redact(u))
	}
	if port := u.Port(); port != "" {
		if err := yamlconf.CheckPort(port); err != nil {
			return Target{}, fmt.Errorf("device URL %q: %w", redact(u), err)
		}
	}
	return t, nil
}

// Protocol is "snmp", "modbus" or "nut", the protocol a profile must match.
func (t Target) Protocol() string {
	switch t.Scheme {
	case SchemeSNMP, SchemeNUT:
		return t.Scheme
	}
	return "modbus"
}

// String prints the target without secrets.
func (t Target) String() string {
	switch t.Scheme {
	case SchemeModbusRTU:
		return fmt.Sprintf("%s://%s?unit=%d", t.Scheme, t.Port, t.Unit)
	case SchemeModbusTCP:
		return fmt.Sprintf("%s://%s?unit=%d", t.Scheme, t.Host, t.Unit)
	case SchemeNUT:
		if t.User != "" {
			return fmt.Sprintf("%s://%s@%s/%s", t.Scheme, t.User, t.Host, t.UPS)
		}
		return fmt.Sprintf("%s://%s/%s", t.Scheme, t.Host, t.UPS)
	default:
		if t.User != "" {
			return fmt.Sprintf("%s://%s@%s?version=%s", t.Scheme, t.User, t.Host, t.Version)
		}
		return fmt.Sprintf("%s://%s?version=%s", t.Scheme, t.Host, t.Version)
	}
}

func withPort(host, port string) string {
	if host == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// redact drops secrets from a URL for error messages.
func redact(u *url.URL) string {
	c := *u
	q := c.Query()
	for _, k := range []string{"community", "authpass", "privpass"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	c.RawQuery = q.Encode()
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}
