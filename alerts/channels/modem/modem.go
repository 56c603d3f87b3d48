// Package modem is the notifier's GSM modem channel (短信猫): SMS through a
// modem on a serial port, speaking AT commands in PDU mode, for hospital
// intranets cut off from the internet.
//
// It is built on github.com/warthog618/modem/at (the AT command driver)
// and github.com/warthog618/sms (PDU encoding), and avoids the traps those
// show against a slow modem:
//
//   - a send may take far longer than the driver's 1 s default; each part
//     gets send_timeout (60 s), and a send that still times out is
//     reported Unknown (it may have gone), never failed, so that it is not
//     resent blindly;
//   - gsm.SendLongMessage gives every long message concatenation reference
//     1, so a phone may merge the parts of two messages; here each message
//     gets its own reference, and the PDUs are built here and sent one at
//     a time with AT+CMGS;
//   - once the port is gone (a USB modem unplugged) the driver is closed
//     for good; the channel notices, reopens the port with back-off and
//     sets the modem up again, answering Retry meanwhile.
//
// Received SMS (+CMTI) are read, decoded, deleted from the SIM and handed
// to Receive's handler; delivery reports (+CDS) are matched to their send
// by message reference.
package modem

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/warthog618/modem/at"
)

// Back-off between attempts to reopen a modem that is gone.
const (
	minReopen = time.Second
	maxReopen = 30 * time.Second
)

// Modem is one GSM modem channel. It is safe for concurrent use; sends go
// out one at a time.
type Modem struct {
	name string
	cfg  Config
	log  *slog.Logger

	sending chan struct{} // a one-slot semaphore: one send at a time
	concat  atomic.Uint32 // the last concatenation reference handed out
	reports *reportBook

	connMu      sync.Mutex // guards the fields below; held while opening
	c           *conn      // nil when not connected
	closed      bool
	nextOpen    time.Time // no reopen before this
	backoff     time.Duration
	lastErr     error
	pinRejected bool // the SIM refused the configured PIN: never again

	rx rxState
}

// conn is one opening of the port and the AT driver on it.
type conn struct {
	port *os.File
	line *line
	at   *at.AT
}

// New returns a modem channel for cfg (from DefaultConfig, decoded and
// validated). It does no I/O: the port is opened by the first Send or by
// Receive.
func New(name string, cfg Config, log *slog.Logger) (*Modem, error) {
	errs := &yamlconf.Errors{}
	cfg.Validate(errs, "")
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("modem %s: %w", name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Modem{
		name:    name,
		cfg:     cfg,
		log:     log.With("channel", name, "port", cfg.Port),
		sending: make(chan struct{}, 1),
		reports: newReportBook(),
	}
	m.concat.Store(rand.Uint32N(255))
	return m, nil
}

// Name is the configured channel's name.
func (m *Modem) Name() string { return m.name }

// Close releases the port. Sends after Close fail.
func (m *Modem) Close() error {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	m.closed = true
	if m.c != nil {
		_ = m.c.port.Close()
		<-m.c.at.Closed()
		m.c = nil
	}
	m.rx.close()
	return nil
}

// errClosed is what a closed channel answers.
var errClosed = errors.New("channel closed")

// errGone is the cause of a send while the modem is not reachable.
type errGone struct {
	after time.Duration
	err   error
}

func (e *errGone) Error() string {
	return fmt.Sprintf("not reachable (next attempt in %v): %v", e.after.Round(time.Second), e.err)
}

func (e *errGone) Unwrap() error { return e.err }

// connect returns the open connection, opening and setting up the modem
// when there is none (or the last one was lost), unless the back-off
// after a failed attempt is still running.
func (m *Modem) connect() (*conn, error) {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	if c := m.c; c != nil {
		select {
		case <-c.at.Closed():
			m.log.Warn("modem connection lost; reopening")
			_ = c.port.Close()
			m.c = nil
		default:
			return c, nil
		}
	}
	if wait := time.Until(m.nextOpen); wait > 0 {
		return nil, &errGone{after: wait, err: m.lastErr}
	}
	c, err := m.open()
	if err != nil {
		m.backoff = min(max(2*m.backoff, minReopen), maxReopen)
		m.nextOpen = time.Now().Add(m.backoff)
		m.lastErr = err
		return nil, &errGone{after: m.backoff, err: err}
	}
	if m.lastErr != nil {
		m.log.Info("modem ready again", "after", m.lastErr.Error())
	}
	m.backoff, m.lastErr, m.c = 0, nil, c
	return c, nil
}

// drop gives up connection c (lost, timed out, or answering out of
// step): the port is closed, and the next use reopens it.
func (m *Modem) drop(c *conn, why string) {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	if m.c == c {
		m.c = nil
	}
	if err := c.port.Close(); err == nil {
		m.log.Warn("modem connection given up; it will be reopened", "why", why)
	}
}

// open opens the port and sets the modem up: echo off, numeric errors,
// the SIM unlocked, PDU mode, new-message and status-report indications,
// then the configured extra commands.
func (m *Modem) open() (*conn, error) {
	port, err := openPort(m.cfg.Port, m.cfg.Baud, m.cfg.Flow == "rtscts")
	if err != nil {
		return nil, err
	}
	// Late answers to a connection given up, a boot banner: not ours.
	drain(port, 100*time.Millisecond, 2*time.Second)
	c := &conn{port: port, line: &line{f: port}}
	c.at = at.New(c.line,
		at.WithTimeout(m.cfg.CommandTimeout),
		at.WithCmds("E0", "+CMEE=1"),
		at.WithIndication("+CMTI:", func(info []string) { m.onCMTI(c, info) }),
		at.WithIndication("+CDS:", func(info []string) { m.onCDS(info) }, at.WithTrailingLine),
	)
	fail := func(step string, err error) (*conn, error) {
		_ = port.Close()
		<-c.at.Closed()
		return nil, fmt.Errorf("%s: %s: %w", m.cfg.Port, step, err)
	}
	if err := c.at.Init(); err != nil {
		return fail("set up (ATE0, AT+CMEE=1)", err)
	}
	if err := m.unlock(c); err != nil {
		return fail("SIM", err)
	}
	if _, err := c.at.Command("+CMGF=0"); err != nil {
		return fail("PDU mode (AT+CMGF=0)", err)
	}
	cnmi := "+CNMI=2,1,0,0,0"
	if m.cfg.DeliveryReports {
		cnmi = "+CNMI=2,1,0,1,0"
	}
	if _, err := c.at.Command(cnmi); err != nil {
		m.log.Warn("modem refuses new-message indications; received SMS are read when the port is reopened", "command", "AT"+cnmi, "err", err)
	}
	for _, cmd := range m.cfg.Init {
		if _, err := c.at.Command(cmd); err != nil {
			return fail("AT"+cmd, err)
		}
	}
	m.log.Info("modem set up", "signal", signal(c))
	return c, nil
}

// signal is the received signal strength AT+CSQ reports, for the log:
// "-67 dBm", or "unknown".
func signal(c *conn) string {
	info, err := c.at.Command("+CSQ")
	if err != nil {
		return "unknown"
	}
	for _, l := range info {
		if v, ok := strings.CutPrefix(l, "+CSQ:"); ok {
			rssi, err := strconv.Atoi(strings.TrimSpace(strings.Split(v, ",")[0]))
			if err != nil || rssi < 0 || rssi > 31 {
				return "unknown"
			}
			return strconv.Itoa(-113+2*rssi) + " dBm"
		}
	}
	return "unknown"
}

// unlock checks the SIM and enters the PIN when it asks for one, once:
// a PIN the SIM rejected is not tried again by this channel.
func (m *Modem) unlock(c *conn) error {
	info, err := c.at.Command("+CPIN?")
	if err != nil {
		return fmt.Errorf("AT+CPIN?: %w", err)
	}
	state := ""
	for _, l := range info {
		if v, ok := strings.CutPrefix(l, "+CPIN:"); ok {
			state = strings.TrimSpace(v)
		}
	}
	switch state {
	case "READY", "":
		return nil
	case "SIM PIN":
		switch {
		case m.cfg.PIN == "":
			return errors.New("the SIM asks for a PIN and none is configured (pin)")
		case m.pinRejected:
			return errors.New("the SIM rejected the configured PIN; not tried again (three wrong PINs lock the SIM)")
		}
		if _, err := c.at.Command(`+CPIN="` + string(m.cfg.PIN) + `"`); err != nil {
			m.pinRejected = true
			return fmt.Errorf("the SIM rejected the configured PIN (%v); not tried again", err)
		}
		return nil
	default:
		return fmt.Errorf("the SIM is locked: %s", state)
	}
}

// nextConcatRef returns the concatenation reference of the next message:
// 1 … 255, different for consecutive messages.
func (m *Modem) nextConcatRef() int {
	return int(m.concat.Add(1)%255) + 1
}

var _ channels.Receiver = (*Modem)(nil)
