package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
)

// Transport is what a Poller needs from an SNMP client: one request, one
// response packet (error status and index included, so the poller can
// split a tooBig and drop a v1 noSuchName). Tests pass a recording fake.
// The packet returned may be reused by the Transport's next call: a
// caller copies the varbinds it keeps (their names and values are never
// changed afterwards).
type Transport interface {
	Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error)
	GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error)
	GetBulk(ctx context.Context, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
	Close() error
}

// ErrBadRequestID is returned when the agent's answer does not carry the
// request id of the request it answers.
var ErrBadRequestID = errors.New("response request id does not match the request")

// client is the Transport of one device, never shared (it is not safe for
// concurrent use). Its socket is opened lazily on the first request, so
// that New does no I/O. Each try of a call waits Timeout/(Retries+1), cut
// short by ctx: a cancelled ctx ends a pending read at once.
//
// SNMPv1 and v2c: client does the exchange itself (exchange.go) and uses
// gosnmp only to encode the request and decode the answers. How a
// response is matched to its request: the connected UDP socket hears only
// the polled host:port; every try sends a new request id; a datagram
// counts as the answer only if it decodes, is a GetResponse and carries
// one of the ids this call sent (a late answer to an earlier try is as
// good as the last one). Anything else (request id 0, an id never sent,
// another PDU type, garbage) is skipped and the read goes on until the
// try's deadline; the error of a call that found no answer says how many
// datagrams it skipped and why the last one was.
//
// SNMPv3: gosnmp does the whole exchange (engine discovery, USM). It too
// dials a connected UDP socket and skips answers whose request id is not
// one it sent for this call, but it lets a request id of 0 through
// unconditionally. client closes that hole: it sets the request id before
// every call and rejects any answer outside the ids the call can have
// used.
type client struct {
	// g holds the target, the per-try Timeout and the Retries; it is the
	// whole exchange for v3 and only the codec for v1 and v2c.
	g      *gosnmp.GoSNMP
	nextID uint32

	// v1, v2c (see exchange.go)
	conn   *net.UDPConn
	raw    syscall.RawConn    // conn's
	readFn func(uintptr) bool // readAnswer, made once
	send   sending            // what readFn sends
	read   readResult         // what readFn read
	reqs   [4]request         // the last requests (setRequest)
	calls  uint64             // setRequest's calls so far
	resp   response           // the last answer

	// v3
	connected bool

	// reading is the socket whose pending read interrupt ends; fired
	// counts interrupt's calls still to run (see watch).
	reading   readDeadliner
	fired     sync.WaitGroup
	interrupt func()
}

// readDeadliner is a socket whose pending read a deadline ends.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

// idWindow is how many request ids one SNMPv3 call may consume: its
// retries plus a discovery and a time-window resend.
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
	c := &client{g: g, nextID: minID}
	c.readFn = c.readAnswer
	c.interrupt = func() {
		_ = c.reading.SetReadDeadline(time.Unix(1, 0))
		c.fired.Done()
	}
	return c, nil
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

// do runs one call: over gosnmp for SNMPv3, over the client's own
// exchange for v1 and v2c.
func (c *client) do(ctx context.Context, typ gosnmp.PDUType, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error) {
	if len(oids) > gosnmp.MaxOids {
		return nil, fmt.Errorf("%d OIDs in one request: at most %d", len(oids), gosnmp.MaxOids)
	}
	if typ == gosnmp.GetBulkRequest && c.g.Version == gosnmp.Version1 {
		return nil, errors.New("GETBULK: not in SNMPv1")
	}
	if c.g.Version != gosnmp.Version3 {
		return c.exchange(ctx, typ, oids, maxRepetitions)
	}
	return c.doV3(ctx, func() (*gosnmp.SnmpPacket, error) {
		switch typ {
		case gosnmp.GetNextRequest:
			return c.g.GetNext(oids)
		case gosnmp.GetBulkRequest:
			return c.g.GetBulk(oids, 0, maxRepetitions)
		}
		return c.g.Get(oids)
	})
}

// watch makes the end of ctx end a pending read on conn at once (a read
// deadline catches ctx's deadline, not a cancel). The caller must pass
// the returned stop to unwatch before it returns.
func (c *client) watch(ctx context.Context, conn readDeadliner) (stop func() bool) {
	c.reading = conn
	c.fired.Add(1)
	return context.AfterFunc(ctx, c.interrupt)
}

// unwatch undoes watch. If interrupt has started, it waits for it, so that
// a stale interrupt never cuts short the next call's read.
func (c *client) unwatch(stop func() bool) {
	if stop() {
		c.fired.Done()
		return
	}
	c.fired.Wait()
}

func (c *client) connectV3() error {
	if c.connected {
		return nil
	}
	if err := c.g.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c.connected = true
	return nil
}

// doV3 runs one gosnmp call under ctx with request ids it controls.
func (c *client) doV3(ctx context.Context, call func() (*gosnmp.SnmpPacket, error)) (*gosnmp.SnmpPacket, error) {
	c.g.Context = ctx
	defer func() { c.g.Context = context.Background() }()
	if err := c.connectV3(); err != nil {
		return nil, err
	}
	// gosnmp looks at ctx only between attempts; a cancelled poll must not
	// sit out a read.
	defer c.unwatch(c.watch(ctx, c.g.Conn))
	for try := 0; ; try++ {
		base := c.takeIDs(c.idWindow())
		// gosnmp sends base+1, base+2, … for this call.
		c.g.SetRequestID(base)
		pkt, err := call()
		if err != nil {
			return pkt, err
		}
		if pkt.PDUType == gosnmp.Report {
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

// minID is the first request id a client uses: ids stay in
// minID..2^31-1, a positive Integer32 whose BER encoding is always 4
// bytes long.
const minID = 1 << 23

// takeIDs reserves n consecutive request ids and returns the one before
// the first.
func (c *client) takeIDs(n uint32) uint32 {
	if c.nextID > 0x7FFFFFFF-2*n {
		c.nextID = minID
	}
	base := c.nextID
	c.nextID += n
	return base
}

func reportName(pkt *gosnmp.SnmpPacket) string {
	if len(pkt.Variables) == 0 {
		return "empty"
	}
	return pkt.Variables[0].Name
}

func (c *client) Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, gosnmp.GetRequest, oids, 0)
}

func (c *client) GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, gosnmp.GetNextRequest, oids, 0)
}

func (c *client) GetBulk(ctx context.Context, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error) {
	return c.do(ctx, gosnmp.GetBulkRequest, oids, maxRepetitions)
}

// Close closes the device's socket; the next request opens a new one.
func (c *client) Close() error {
	if c.conn != nil {
		err := c.conn.Close()
		c.conn, c.raw = nil, nil
		return err
	}
	if !c.connected || c.g.Conn == nil {
		return nil
	}
	c.connected = false
	return c.g.Conn.Close()
}
