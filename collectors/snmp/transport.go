package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
)

// Transport is what a Poller needs from an SNMP client: one request, one
// response packet (error status and index included, so the poller can
// split a tooBig and drop a v1 noSuchName). Tests pass a recording fake.
type Transport interface {
	Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error)
	GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error)
	GetBulk(ctx context.Context, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
	Close() error
}

// ErrBadRequestID is returned when the agent's answer does not carry the
// request id of the request it answers.
var ErrBadRequestID = errors.New("response request id does not match the request")

// client is the gosnmp Transport: one gosnmp.GoSNMP per device, never
// shared (gosnmp clients are not safe for concurrent use), connected
// lazily on the first request so that New does no I/O.
//
// How a response is matched to its request: gosnmp dials a connected UDP
// socket (UseUnconnectedUDPSocket stays false), so the kernel delivers
// only datagrams from the polled host:port. gosnmp then skips answers whose
// request id is not one of the ids it sent for this request (its retries),
// but it lets a request id of 0 through unconditionally. client closes that
// hole: it sets the request id itself before every request and rejects any
// answer whose id is outside the ids this request can have used.
type client struct {
	g         *gosnmp.GoSNMP
	connected bool
	nextID    uint32
}

// idWindow is how many request ids one call may consume: its retries plus
// an SNMPv3 discovery and a time-window resend.
func (c *client) idWindow() uint32 { return uint32(2*(c.g.Retries+1) + 4) }

func newClient(t collectors.Target, timeout time.Duration, retries int) (*client, error) {
	host, portText, err := net.SplitHostPort(t.Host)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", t.Host, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("address %q: port %q: want 1..65535", t.Host, portText)
	}
	perTry := timeout / time.Duration(retries+1)
	if perTry < 10*time.Millisecond {
		return nil, fmt.Errorf("timeout %v with %d retries leaves %v per request: too short", timeout, retries, perTry)
	}
	g := &gosnmp.GoSNMP{
		Target:             host,
		Port:               uint16(port),
		Transport:          "udp",
		Timeout:            perTry,
		Retries:            retries,
		ExponentialTimeout: false,
		MaxOids:            gosnmp.MaxOids,
		Context:            context.Background(),
	}
	switch t.Version {
	case "1":
		g.Version = gosnmp.Version1
		g.Community = string(t.Community)
	case "2c", "":
		g.Version = gosnmp.Version2c
		g.Community = string(t.Community)
	case "3":
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.ContextName = t.Context
		usm, flags, err := usmParams(t)
		if err != nil {
			return nil, err
		}
		g.MsgFlags = flags
		g.SecurityParameters = usm
	default:
		return nil, fmt.Errorf("version %q: want 1, 2c or 3", t.Version)
	}
	return &client{g: g, nextID: 1}, nil
}

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA1": gosnmp.SHA,
	"SHA224": gosnmp.SHA224, "SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES": gosnmp.DES, "AES": gosnmp.AES, "AES128": gosnmp.AES,
	"AES192": gosnmp.AES192, "AES256": gosnmp.AES256, "AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
}

// usmParams maps a Target's v3 settings to gosnmp's USM parameters:
// noAuthNoPriv (no auth), authNoPriv (auth, no priv), authPriv.
func usmParams(t collectors.Target) (*gosnmp.UsmSecurityParameters, gosnmp.SnmpV3MsgFlags, error) {
	if t.User == "" {
		return nil, 0, fmt.Errorf("SNMPv3 needs a user")
	}
	usm := &gosnmp.UsmSecurityParameters{UserName: t.User}
	if t.Auth == "" {
		if t.Priv != "" {
			return nil, 0, fmt.Errorf("priv=%s needs auth: SNMPv3 has no privacy without authentication", t.Priv)
		}
		return usm, gosnmp.NoAuthNoPriv, nil
	}
	ap, ok := authProtocols[t.Auth]
	if !ok {
		return nil, 0, fmt.Errorf("auth=%q: want MD5, SHA, SHA224, SHA256, SHA384 or SHA512", t.Auth)
	}
	if len(t.AuthPass) < 8 {
		return nil, 0, fmt.Errorf("authpass: SNMPv3 needs at least 8 characters")
	}
	usm.AuthenticationProtocol = ap
	usm.AuthenticationPassphrase = string(t.AuthPass)
	if t.Priv == "" {
		return usm, gosnmp.AuthNoPriv, nil
	}
	pp, ok := privProtocols[t.Priv]
	if !ok {
		return nil, 0, fmt.Errorf("priv=%q: want DES, AES, AES192, AES256, AES192C or AES256C", t.Priv)
	}
	if len(t.PrivPass) < 8 {
		return nil, 0, fmt.Errorf("privpass: SNMPv3 needs at least 8 characters")
	}
	usm.PrivacyProtocol = pp
	usm.PrivacyPassphrase = string(t.PrivPass)
	return usm, gosnmp.AuthPriv, nil
}

func (c *client) connect() error {
	if c.connected {
		return nil
	}
	if err := c.g.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c.connected = true
	return nil
}

// do runs one gosnmp call under ctx with request ids it controls.
func (c *client) do(ctx context.Context, call func() (*gosnmp.SnmpPacket, error)) (*gosnmp.SnmpPacket, error) {
	c.g.Context = ctx
	if err := c.connect(); err != nil {
		return nil, err
	}
	defer func() { c.g.Context = context.Background() }()
	// gosnmp looks at ctx only between attempts; a cancelled poll must not
	// sit out a read, so cancellation also ends the read at once.
	stop := context.AfterFunc(ctx, func() { _ = c.g.Conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for try := 0; ; try++ {
		if c.nextID > 0x7FFFFFFF-2*c.idWindow() {
			c.nextID = 1
		}
		base := c.nextID
		c.nextID += c.idWindow()
		// gosnmp sends base+1, base+2, … for this call.
		c.g.SetRequestID(base)
		pkt, err := call()
		if err != nil {
			return pkt, err
		}
		if pkt.Version == gosnmp.Version3 && pkt.PDUType == gosnmp.Report {
			return pkt, fmt.Errorf("agent sent an SNMPv3 report: %s", reportName(pkt))
		}
		if pkt.RequestID > base && pkt.RequestID <= base+c.idWindow() {
			return pkt, nil
		}
		// A forged or stray answer: ask again while time and retries are left.
		if ctx.Err() != nil || try >= c.g.Retries {
			return nil, fmt.Errorf("%w: got %d", ErrBadRequestID, pkt.RequestID)
		}
	}
}

func reportName(pkt *gosnmp.SnmpPacket) string {
	if len(pkt.Variables) == 0 {
		return "empty"
	}
	return pkt.Variables[0].Name
}

func (c *client) Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, func() (*gosnmp.SnmpPacket, error) { return c.g.Get(oids) })
}

func (c *client) GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, func() (*gosnmp.SnmpPacket, error) { return c.g.GetNext(oids) })
}

func (c *client) GetBulk(ctx context.Context, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, func() (*gosnmp.SnmpPacket, error) { return c.g.GetBulk(oids, 0, maxRepetitions) })
}

func (c *client) Close() error {
	if !c.connected || c.g.Conn == nil {
		return nil
	}
	c.connected = false
	return c.g.Conn.Close()
}
