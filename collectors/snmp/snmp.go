// Package snmp polls UPSes and environment probes over SNMP v1, v2c and
// v3 with gosnmp, and serves device profiles as a simulated SNMP agent.
//
// A Poller reads one device: the profile's scalar OIDs packed into as few
// GET PDUs as the agent allows (split on tooBig, the smaller size kept),
// its table columns with GETBULK (v2c, v3) or a GETNEXT walk (v1), all
// under one deadline per poll. Decode turns what came back into values, as
// a pure function of the varbinds and the profile: a missing object, a
// wrong type or a sentinel spoils only its own value.
package snmp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Defaults and bounds of a poll.
const (
	// DefaultTimeout is the total poll deadline when the device config
	// sets none.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxOids is how many OIDs the first GET packs into one PDU;
	// a tooBig answer halves it for the device from then on.
	DefaultMaxOids = 60
	// DefaultMaxRepetitions is the GETBULK max-repetitions for table
	// columns (UPS tables have 1 or 3 lines).
	DefaultMaxRepetitions = 10
	// MaxRows bounds the rows read from one table column.
	MaxRows = 64
	// maxWalkRequests bounds the requests of one table walk.
	maxWalkRequests = 32
)

// Poller polls one SNMP device. It is safe for concurrent use, but polls
// of one Poller run one at a time (one SNMP client per device).
type Poller struct {
	cfg   collectors.DeviceConfig
	prof  *profiles.Profile
	log   *slog.Logger
	dev   collectors.Device
	specs []collectors.ValueSpec

	scalars []int    // indexes of scalar fields
	cols    []column // walked columns: of fields, and tables' name and unit columns
	v1      bool

	mu      sync.Mutex
	tr      Transport
	maxOids int
	maxReps uint32 // GETBULK ceiling, halved on tooBig
	rows    int    // most rows a column had on the last poll
	src     []int  // per field: the source (profiles.Field.Source) in use
	// buffers reused between polls
	pending []int
	oids    []string
	walkBuf walkBuf
}

// walkBuf is walk's state, per column of Poller.cols, kept for the next
// poll.
type walkBuf struct {
	cursor []string           // the last OID read
	done   []bool             // the column's end is seen
	rows   [][]gosnmp.SnmpPDU // the rows read
	act    []int              // the columns a request asks for
	oids   []string           // their cursors
}

var _ collectors.Poller = (*Poller)(nil)

// New validates a device and its profile and returns its Poller. It does
// no network I/O: the socket is opened by the first Poll.
func New(cfg collectors.DeviceConfig, p *profiles.Profile, log *slog.Logger) (*Poller, error) {
	if err := check(&cfg, p); err != nil {
		return nil, err
	}
	c, err := newClient(cfg.Target, cfg.Timeout, cfg.Retries)
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", cfg.Device.Name, err)
	}
	return newPoller(cfg, p, c, log), nil
}

// NewWithTransport is New with a given Transport (a fake in tests, or a
// client shared by nothing else).
func NewWithTransport(cfg collectors.DeviceConfig, p *profiles.Profile, tr Transport, log *slog.Logger) (*Poller, error) {
	if err := check(&cfg, p); err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, fmt.Errorf("device %q: no transport", cfg.Device.Name)
	}
	return newPoller(cfg, p, tr, log), nil
}

func check(cfg *collectors.DeviceConfig, p *profiles.Profile) error {
	name := cfg.Device.Name
	if p == nil {
		return fmt.Errorf("device %q: no profile", name)
	}
	if p.Protocol != "snmp" {
		return fmt.Errorf("device %q: profile %q is a %s profile, an snmp:// device needs an snmp profile", name, p.Name, p.Protocol)
	}
	if cfg.Target.Scheme != collectors.SchemeSNMP {
		return fmt.Errorf("device %q: target %s is not snmp://", name, cfg.Target)
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("device %q: timeout %v: must be positive", name, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries < 0 {
		return fmt.Errorf("device %q: retries %d: must not be negative", name, cfg.Retries)
	}
	return nil
}

func newPoller(cfg collectors.DeviceConfig, p *profiles.Profile, tr Transport, log *slog.Logger) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dev := cfg.Device.Polled(p.Class, p.Name)
	pl := &Poller{
		cfg: cfg, prof: p, dev: dev, specs: p.Specs(), tr: tr,
		log:     log,
		v1:      cfg.Target.Version == "1",
		maxOids: DefaultMaxOids,
		maxReps: DefaultMaxRepetitions,
		rows:    DefaultMaxRepetitions - 1,
		src:     make([]int, len(p.Fields)),
	}
	for i := range p.Fields {
		if p.Fields[i].Walk {
			pl.cols = append(pl.cols, newColumn(p.Fields[i].OID, i))
		} else {
			pl.scalars = append(pl.scalars, i)
		}
	}
	pl.cols = append(pl.cols, tableColumns(p)...)
	return pl
}

// Poll reads the device once, within the device timeout and ctx's
// deadline, whichever ends first. If the device does not answer, Poll
// returns a comms-lost SampleSet (collectors.Failed) and the error.
func (p *Poller) Poll(ctx context.Context) (collectors.SampleSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	// The scheduler's deadline usually comes first: then another one,
	// its timer and its registration with ctx, would be for nothing.
	if d, ok := ctx.Deadline(); !ok || d.After(start.Add(p.cfg.Timeout)) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, start.Add(p.cfg.Timeout))
		defer cancel()
	}
	resp := getResponse(len(p.prof.Fields))
	defer putResponse(resp)
	err := p.read(ctx, resp)
	took := time.Since(start)
	if err != nil {
		err = fmt.Errorf("device %q (%s): %w", p.dev.Name, p.cfg.Target, err)
		return collectors.Failed(p.dev, start, took, p.specs, err), err
	}
	return collectors.SampleSet{
		Device:   p.dev,
		Time:     start,
		Duration: took,
		Values:   Decode(p.prof, resp, p.cfg.Inverted),
	}, nil
}

// Close releases the device's socket.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tr.Close()
}

func (p *Poller) read(ctx context.Context, r *Response) error {
	if err := p.getScalars(ctx, r, p.scalars); err != nil {
		return err
	}
	if err := p.fallBack(ctx, r); err != nil {
		return err
	}
	return p.walk(ctx, r)
}

// getScalars GETs the scalar fields, each from the source in use, as
// many per PDU as the agent takes.
func (p *Poller) getScalars(ctx context.Context, r *Response, fields []int) error {
	// pending is cut from the front as batches are answered: p.pending
	// keeps the whole array for the next poll.
	pending := append(p.pending[:0], fields...)
	p.pending = pending[:0]
	for len(pending) > 0 {
		n := min(p.maxOids, len(pending))
		batch := pending[:n]
		oids := p.oids[:0]
		for _, i := range batch {
			oids = append(oids, p.prof.Fields[i].Source(p.src[i]).OID)
			r.Src[i] = p.src[i]
		}
		p.oids = oids
		pkt, err := p.tr.Get(ctx, oids)
		if err != nil {
			return fmt.Errorf("get %d OIDs (%s…): %w", n, oids[0], err)
		}
		switch {
		case pkt.Error == gosnmp.NoError:
			file(r, batch, oids, pkt.Variables)
			pending = pending[n:]
		case pkt.Error == gosnmp.TooBig && n > 1:
			p.maxOids = n / 2
			p.log.Debug("agent answered tooBig: fewer OIDs per GET", "max_oids", p.maxOids)
		case pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= n:
			// v1 noSuchName (or another per-varbind error): the whole PDU
			// is lost; drop the named OID and ask again for the rest.
			k := int(pkt.ErrorIndex) - 1
			r.Errs[batch[k]] = fmt.Sprintf("%s: agent answered %s (error-index %d)", trimDot(oids[k]), errName(pkt.Error), pkt.ErrorIndex)
			pending = slices.Delete(pending, k, k+1)
		default:
			for k, i := range batch {
				r.Errs[i] = fmt.Sprintf("%s: agent answered %s for the whole request", trimDot(oids[k]), errName(pkt.Error))
			}
			pending = pending[n:]
		}
	}
	return nil
}

func errName(e gosnmp.SNMPError) string {
	s := e.String()
	if s == "" {
		return fmt.Sprintf("error-status %d", int(e))
	}
	// gosnmp names them NoSuchName, TooBig…; RFC 3416 spells noSuchName.
	return strings.ToLower(s[:1]) + s[1:]
}

// file puts a GET response's varbinds under their fields (batch[k] asked
// for oids[k]): by position when the agent kept the order (it must), else
// by name.
func file(r *Response, batch []int, oids []string, vars []gosnmp.SnmpPDU) {
	for k, i := range batch {
		oid := trimDot(oids[k])
		if k < len(vars) && trimDot(vars[k].Name) == oid {
			r.Vars[i] = vars[k]
			continue
		}
		for _, v := range vars {
			if trimDot(v.Name) == oid {
				r.Vars[i] = v
				break
			}
		}
	}
}

// walk reads every walked column, and the name and unit columns of the
// profile's tables, all columns in each request.
func (p *Poller) walk(ctx context.Context, r *Response) error {
	if len(p.cols) == 0 {
		return nil
	}
	n := len(p.cols)
	w := &p.walkBuf
	if w.cursor == nil {
		w.cursor, w.done, w.rows = make([]string, n), make([]bool, n), make([][]gosnmp.SnmpPDU, n)
		w.act, w.oids = make([]int, 0, n), make([]string, 0, n)
	}
	cursor, done, rows, act, oids := w.cursor, w.done, w.rows, w.act, w.oids
	defer func() { clear(cursor); clear(rows) }()
	// Ask for one row more than the tables had last time, so that one
	// GETBULK both reads them and sees their end.
	reps := min(p.maxReps, uint32(p.rows+1))
	// The rows of all columns in one array, each column's part as long as
	// the rows asked for: a column that has more grows its own.
	store := make([]gosnmp.SnmpPDU, n*int(reps))
	for j, c := range p.cols {
		cursor[j], done[j] = c.oid, false
		rows[j] = store[j*int(reps) : j*int(reps) : (j+1)*int(reps)]
	}
	fail := func(j int, why string) {
		if i := p.cols[j].field; i >= 0 {
			r.Errs[i] = why
		}
		done[j] = true
	}
	defer func() {
		p.rows = 1
		for j, c := range p.cols {
			p.rows = max(p.rows, len(rows[j]))
			if c.field >= 0 {
				r.Rows[c.field] = rows[j]
			} else if len(rows[j]) > 0 {
				if r.Cols == nil {
					r.Cols = map[string][]gosnmp.SnmpPDU{}
				}
				r.Cols[c.oid] = rows[j]
			}
		}
	}()
	for req := 0; ; req++ {
		act, oids = act[:0], oids[:0]
		for j := range n {
			if !done[j] {
				act = append(act, j)
				oids = append(oids, cursor[j])
			}
		}
		if len(act) == 0 {
			return nil
		}
		if req == maxWalkRequests {
			for _, j := range act {
				fail(j, fmt.Sprintf("%s: table walk did not end after %d requests", p.cols[j].oid, req))
			}
			return nil
		}
		var pkt *gosnmp.SnmpPacket
		var err error
		if p.v1 {
			pkt, err = p.tr.GetNext(ctx, oids)
		} else {
			pkt, err = p.tr.GetBulk(ctx, oids, reps)
		}
		if err != nil {
			return fmt.Errorf("walk %s: %w", oids[0], err)
		}
		switch {
		case pkt.Error == gosnmp.NoError:
		case pkt.Error == gosnmp.TooBig && !p.v1 && reps > 1:
			p.maxReps = max(1, reps/2)
			reps = p.maxReps
			continue
		case pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= len(act):
			// v1: noSuchName on GETNEXT is the end of the MIB view.
			done[act[pkt.ErrorIndex-1]] = true
			continue
		default:
			for _, j := range act {
				fail(j, fmt.Sprintf("%s: agent answered %s", p.cols[j].oid, errName(pkt.Error)))
			}
			continue
		}
		if len(pkt.Variables) == 0 {
			return nil
		}
		for k, vb := range pkt.Variables {
			j := act[k%len(act)]
			if done[j] {
				continue
			}
			name := trimDot(vb.Name)
			if vb.Type == gosnmp.EndOfMibView || !strings.HasPrefix(name, p.cols[j].root) || CompareOID(name, cursor[j]) <= 0 {
				done[j] = true
				continue
			}
			rows[j] = append(rows[j], vb)
			cursor[j] = name
			if len(rows[j]) >= MaxRows {
				done[j] = true
			}
		}
	}
}

// CompareOID orders two numeric OIDs (without leading dots) arc by arc.
func CompareOID(a, b string) int {
	for a != "" && b != "" {
		x, ra := arc(a)
		y, rb := arc(b)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
		a, b = ra, rb
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// arc splits the first arc off an OID.
func arc(s string) (uint64, string) {
	var n uint64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	if i < len(s) {
		i++
	}
	return n, s[i:]
}
