package email

import (
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// TLS modes of the connection to the mail relay.
const (
	TLSStartTLS = "starttls" // STARTTLS required (the default): no mail goes out in clear
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSPlain    = "plain"    // no encryption: only to a relay on the loopback interface
)

// Default ports of the TLS modes.
const (
	DefaultPort    = 587
	DefaultTLSPort = 465
)

// Config is one SMTP relay.
//
//	host: mail.hospital.example
//	port: 587                      # default 587, 465 with tls: tls
//	username: roomwatch
//	password: {file: /etc/roomwatch/smtp.password}
//	from: 机房监控 <roomwatch@hospital.example>
//	tls: starttls                  # tls, or plain for a relay on 127.0.0.1
//	ca_file: /etc/roomwatch/hospital-ca.pem  # the CA of an in-house relay
//	timeout: 30s
type Config struct {
	Host     string          `yaml:"host"`
	Port     int             `yaml:"port"`
	Username string          `yaml:"username"`
	Password yamlconf.Secret `yaml:"password"`
	From     string          `yaml:"from"`
	TLS      string          `yaml:"tls"`
	CAFile   string          `yaml:"ca_file"`
	Timeout  time.Duration   `yaml:"timeout"`
}

// DefaultTimeout bounds the connection and each SMTP command.
const DefaultTimeout = 30 * time.Second

func (c *Config) withDefaults() Config {
	d := *c
	if d.TLS == "" {
		d.TLS = TLSStartTLS
	}
	if d.Port == 0 {
		d.Port = DefaultPort
		if d.TLS == TLSImplicit {
			d.Port = DefaultTLSPort
		}
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
	return d
}

// Validate records every problem of c under path.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	d := c.withDefaults()
	if d.Host == "" {
		errs.Addf(path+".host", "missing")
	}
	if d.Port < 1 || d.Port > 65535 {
		errs.Addf(path+".port", "%d is not a TCP port", d.Port)
	}
	if d.From == "" {
		errs.Addf(path+".from", "missing")
	} else if _, err := mail.ParseAddress(d.From); err != nil {
		errs.Addf(path+".from", "%q is not an address: %v", d.From, err)
	}
	if (d.Username == "") != (d.Password == "") {
		errs.Addf(path+".password", "username and password go together")
	}
	switch d.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSPlain:
		if d.Host != "" && !loopback(d.Host) {
			errs.Addf(path+".tls", "plain is only for a relay on the loopback interface, not %s", d.Host)
		}
	default:
		errs.Addf(path+".tls", "%q is not starttls, tls or plain", d.TLS)
	}
	if d.CAFile != "" {
		if _, err := os.Stat(d.CAFile); err != nil {
			errs.Addf(path+".ca_file", "%v", err)
		}
	}
	if d.Timeout < 0 {
		errs.Addf(path+".timeout", "must be positive")
	}
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
