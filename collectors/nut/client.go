package nut

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// maxVars bounds the variables one LIST VAR answer may carry (a real UPS
// has a few dozen to a few hundred).
const maxVars = 4096

// ErrAnswer is an ERR line of upsd (ERR UNKNOWN-UPS, ERR DATA-STALE…).
type ErrAnswer struct {
	// Code is the word after ERR: UNKNOWN-UPS, ACCESS-DENIED,
	// DATA-STALE, DRIVER-NOT-CONNECTED, VAR-NOT-SUPPORTED…
	Code string
	// Cmd is the command that got the answer (its password left out).
	Cmd string
}

func (e *ErrAnswer) Error() string {
	hint := errHints[e.Code]
	if hint != "" {
		hint = " (" + hint + ")"
	}
	return fmt.Sprintf("upsd answered ERR %s to %s%s", e.Code, e.Cmd, hint)
}

// errHints say what an ERR code of the NUT network protocol means for
// the person reading the error.
var errHints = map[string]string{
	"UNKNOWN-UPS":          "no UPS of that name in upsd's ups.conf",
	"ACCESS-DENIED":        "upsd.users refuses this user or password",
	"DATA-STALE":           "the driver has lost contact with the UPS",
	"DRIVER-NOT-CONNECTED": "upsd has no running driver for this UPS",
	"USERNAME-REQUIRED":    "upsd wants a user: nut://user:password@host/ups",
	"PASSWORD-REQUIRED":    "upsd wants a password",
}

// client speaks the upsd text protocol over one TCP connection, which it
// keeps between polls and dials again after any error.
type client struct {
	addr  string
	ups   string
	user  string
	pass  yamlconf.Secret
	login bool

	conn net.Conn
	r    *textproto.Reader
}

// close drops the connection; the next request dials again.
func (c *client) close() error {
	if c.conn == nil {
		return nil
	}
	// LOGOUT is a courtesy; upsd copes with a dropped socket too.
	_ = c.conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.conn.Write([]byte("LOGOUT\n"))
	err := c.conn.Close()
	c.conn, c.r = nil, nil
	return err
}

// listVars returns every variable upsd holds for ups (LIST VAR).
func (c *client) listVars(ctx context.Context, ups string) (map[string]string, error) {
	vars, err := c.doList(ctx, ups)
	var ea *ErrAnswer
	if err != nil && !errors.As(err, &ea) {
		// The stream may be out of step: start afresh next time.
		_ = c.close()
	}
	return vars, err
}

func (c *client) doList(ctx context.Context, ups string) (map[string]string, error) {
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	stop := c.watch(ctx)
	defer stop()
	cmd := "LIST VAR " + ups
	if err := c.send(cmd); err != nil {
		return nil, err
	}
	line, err := c.read(cmd)
	if err != nil {
		return nil, err
	}
	if line != "BEGIN "+cmd {
		return nil, fmt.Errorf("upsd answered %q to %s, want BEGIN %s", line, cmd, cmd)
	}
	vars := map[string]string{}
	prefix := "VAR " + ups + " "
	for {
		line, err := c.read(cmd)
		if err != nil {
			return nil, err
		}
		if line == "END "+cmd {
			return vars, nil
		}
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			return nil, fmt.Errorf("upsd answered %q inside %s", line, cmd)
		}
		name, val, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, fmt.Errorf("upsd answered %q inside %s: no value", line, cmd)
		}
		v, err := unquote(val)
		if err != nil {
			return nil, fmt.Errorf("upsd answered %q inside %s: %w", line, cmd, err)
		}
		if len(vars) == maxVars {
			return nil, fmt.Errorf("%s: more than %d variables", cmd, maxVars)
		}
		vars[name] = v
	}
}

// dial connects and, when a user is configured, sends USERNAME and
// PASSWORD. upsd checks the password only on LOGIN, which is sent only
// when asked for: it registers the client as a machine powered by the
// UPS, which upsmon's shutdown waits for (NUT network protocol, LOGIN);
// a monitor must not delay a shutdown unless the site wants it.
func (c *client) dial(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	c.r = textproto.NewReader(bufio.NewReader(conn))
	if c.user == "" {
		return nil
	}
	stop := c.watch(ctx)
	defer stop()
	cmds := []struct{ line, shown string }{
		{"USERNAME " + c.user, "USERNAME " + c.user},
		{"PASSWORD " + quote(string(c.pass)), "PASSWORD"},
	}
	if c.login {
		cmds = append(cmds, struct{ line, shown string }{"LOGIN " + c.ups, "LOGIN " + c.ups})
	}
	for _, cmd := range cmds {
		if err := c.send(cmd.line); err != nil {
			_ = c.close()
			return err
		}
		line, err := c.read(cmd.shown)
		if err == nil && line != "OK" && !strings.HasPrefix(line, "OK ") {
			err = fmt.Errorf("upsd answered %q to %s, want OK", line, cmd.shown)
		}
		if err != nil {
			_ = c.close()
			return err
		}
	}
	return nil
}

// watch makes ctx's deadline and cancellation end blocked reads and
// writes on the connection.
func (c *client) watch(ctx context.Context) func() {
	conn := c.conn
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	return func() { stop() }
}

func (c *client) send(line string) error {
	_, err := c.conn.Write([]byte(line + "\n"))
	return err
}

// read returns the next line, or the ERR answer as an *ErrAnswer.
func (c *client) read(cmd string) (string, error) {
	line, err := c.r.ReadLine()
	if err != nil {
		return "", err
	}
	if code, ok := strings.CutPrefix(line, "ERR "); ok {
		code, _, _ = strings.Cut(code, " ")
		return "", &ErrAnswer{Code: code, Cmd: cmd}
	}
	return line, nil
}

// unquote reads a "quoted" protocol word: embedded quotes and
// backslashes are escaped with a backslash.
func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("value %s is not quoted", s)
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// quote makes s one protocol word.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
