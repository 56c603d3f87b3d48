package modem

import (
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Defaults of a modem channel.
const (
	DefaultBaud           = 115200
	DefaultFlow           = "none"
	DefaultCommandTimeout = 10 * time.Second
	// DefaultSendTimeout is how long one SMS part may take: a modem on a
	// weak network takes many seconds to answer +CMGS, and a send that
	// times out is reported unknown (it may have gone), never resent
	// blindly.
	DefaultSendTimeout = 60 * time.Second
	DefaultMaxParts    = 6
	// DefaultReadInterval is how often a receiving channel also lists the
	// SIM, for messages whose +CMTI was lost or never sent.
	DefaultReadInterval = time.Minute
)

// Config is one GSM modem (短信猫) on a serial port.
type Config struct {
	// Port is the serial device, e.g. /dev/ttyUSB0 (better a stable
	// /dev/serial/by-id/... link, which survives an unplug).
	Port string `yaml:"port"`
	// Baud is the line speed (9600 … 921600).
	Baud int `yaml:"baud"`
	// Flow is the flow control: none or rtscts.
	Flow string `yaml:"flow"`
	// SMSC is the service centre number put in each PDU; empty uses the
	// one stored on the SIM (AT+CSCA).
	SMSC string `yaml:"smsc"`
	// PIN unlocks the SIM when it asks for one. A PIN the SIM rejects is
	// never tried again (three wrong PINs lock the SIM).
	PIN yamlconf.Secret `yaml:"pin"`
	// CommandTimeout bounds each ordinary AT command.
	CommandTimeout time.Duration `yaml:"command_timeout"`
	// SendTimeout bounds the sending of one SMS part (AT+CMGS).
	SendTimeout time.Duration `yaml:"send_timeout"`
	// DeliveryReports asks the network for a status report of each part
	// and passes them to the receiver.
	DeliveryReports bool `yaml:"delivery_reports"`
	// Init lists extra commands, without the AT prefix, run after the
	// channel's own set-up (e.g. +CPMS="SM","SM","SM" or ^CURC=0).
	Init []string `yaml:"init"`
	// ReadInterval is how often Receive also lists the messages on the
	// SIM (AT+CMGL), besides reading each one the modem announces.
	ReadInterval time.Duration `yaml:"read_interval"`
	// MaxParts bounds a long text: beyond it the text is cut and ends
	// with "…".
	MaxParts int `yaml:"max_parts"`
}

// DefaultConfig returns a Config with every default set, to decode into.
func DefaultConfig() Config {
	return Config{
		Baud:           DefaultBaud,
		Flow:           DefaultFlow,
		CommandTimeout: DefaultCommandTimeout,
		SendTimeout:    DefaultSendTimeout,
		MaxParts:       DefaultMaxParts,
		ReadInterval:   DefaultReadInterval,
	}
}

// Validate records every problem of c under path (e.g. "notify.channels[2]").
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	p := func(f string) string {
		if path == "" {
			return f
		}
		return path + "." + f
	}
	if c.Port == "" {
		errs.Addf(p("port"), "required (e.g. /dev/ttyUSB0)")
	} else if !strings.HasPrefix(c.Port, "/") {
		errs.Addf(p("port"), "%q is not a device path (e.g. /dev/ttyUSB0)", c.Port)
	}
	if _, ok := bauds[c.Baud]; !ok {
		errs.Addf(p("baud"), "%d is not one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600", c.Baud)
	}
	if c.Flow != "none" && c.Flow != "rtscts" {
		errs.Addf(p("flow"), "%q is not none or rtscts", c.Flow)
	}
	if c.SMSC != "" {
		if _, err := channels.PhoneNumber(c.SMSC); err != nil {
			errs.Addf(p("smsc"), "%v", err)
		}
	}
	if pin := string(c.PIN); pin != "" && (len(pin) < 4 || len(pin) > 8 || strings.Trim(pin, "0123456789") != "") {
		errs.Addf(p("pin"), "must be 4 to 8 digits")
	}
	if c.CommandTimeout <= 0 {
		errs.Addf(p("command_timeout"), "must be positive")
	}
	if c.SendTimeout < 5*time.Second {
		errs.Addf(p("send_timeout"), "%v is too short: a modem may take 10 s or more to send an SMS (at least 5s)", c.SendTimeout)
	}
	for i, cmd := range c.Init {
		field := p("init") + "[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(cmd) == "":
			errs.Addf(field, "empty command")
		case strings.HasPrefix(strings.ToUpper(cmd), "AT"):
			errs.Addf(field, "%q: write the command without the AT prefix", cmd)
		case strings.ContainsAny(cmd, "\r\n\x1a\x1b"):
			errs.Addf(field, "%q: control characters are not allowed", cmd)
		}
	}
	if c.ReadInterval < time.Second {
		errs.Addf(p("read_interval"), "must be at least 1s")
	}
	if c.MaxParts < 1 || c.MaxParts > 255 {
		errs.Addf(p("max_parts"), "must be between 1 and 255, got %d", c.MaxParts)
	}
}
