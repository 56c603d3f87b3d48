// Package modbus polls Modbus TCP and Modbus RTU (RS-485) devices and
// decodes their registers by a device profile. RTU frames go through
// goburrow/modbus; Modbus TCP is framed here, in a buffer per connection
// that requests and answers reuse (tcp.go).
//
// Devices that share a line share one connection: every poller of one
// serial port, or of one TCP gateway host:port, takes turns on one line
// (a half-duplex bus carries one transaction at a time), setting its unit
// id per transaction. Waiting for the line counts against the poll's own
// deadline. Adjacent fields are read in one request (up to 125 registers
// or 2000 bits, bridging small gaps); a block that gets a Modbus exception
// is re-read field by field so one bad register does not hide the good
// ones. After a timeout or any framing error the connection is dropped,
// so a late answer is never taken for the next request's (the stream
// would otherwise stay one transaction behind).
//
// The package also serves devices (sim.go: a Modbus TCP server and an RTU
// slave fed by a simulator store) and reads raw register blocks for
// `roomwatch probe --raw` (raw.go).
package modbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// DefaultTimeout bounds a poll whose config and context set no deadline.
const DefaultTimeout = 5 * time.Second

// Poller polls one Modbus device. It implements collectors.Poller.
type Poller struct {
	unit    uint8
	timeout time.Duration
	retries int
	profile *profiles.Profile
	log     *slog.Logger
	dev     collectors.Device
	invert  []bool
	blocks  []block
	// split marks blocks that answered "illegal data address" as a whole:
	// their fields are read one by one from then on.
	split []bool
	bus   *bus
	// cur[i] is field i as read from its source in use (src[i]; see
	// profiles.Field.Source): blocks are planned over cur. A field read
	// from its own register points into the shared profile, so a device
	// holds no copy of its fields.
	cur []*profiles.Field
	src []int
}

// New validates a device and its profile and returns its poller. It does
// no network I/O; the connection opens on the first Poll.
func New(cfg collectors.DeviceConfig, p *profiles.Profile, log *slog.Logger) (*Poller, error) {
	name := cfg.Device.Name
	if p == nil {
		return nil, fmt.Errorf("device %q: no profile", name)
	}
	if p.Protocol != "modbus" {
		return nil, fmt.Errorf("device %q: profile %q is for %s, not modbus", name, p.Name, p.Protocol)
	}
	t := cfg.Target
	switch t.Scheme {
	case collectors.SchemeModbusTCP:
		if t.Host == "" {
			return nil, fmt.Errorf("device %q: modbus+tcp target has no host", name)
		}
	case collectors.SchemeModbusRTU:
		if t.Port == "" {
			return nil, fmt.Errorf("device %q: modbus+rtu target has no serial port", name)
		}
	default:
		return nil, fmt.Errorf("device %q: target %s is not modbus+tcp or modbus+rtu", name, t.String())
	}
	if cfg.Timeout < 0 || cfg.Retries < 0 {
		return nil, fmt.Errorf("device %q: timeout and retries must not be negative", name)
	}
	for _, inv := range cfg.Invert {
		f, ok := p.Field(inv)
		if !ok {
			return nil, fmt.Errorf("device %q: invert %q: profile %q has no such value", name, inv, p.Name)
		}
		if f.Kind() != collectors.Bool {
			return nil, fmt.Errorf("device %q: invert %q: not a bool value", name, inv)
		}
	}
	for i := range p.Fields {
		for k := range p.Fields[i].Sources() {
			f := p.Fields[i].Source(k)
			if Width(f) == 0 || functionCodes[f.Table] == 0 {
				return nil, fmt.Errorf("device %q: profile %q: value %s: type %q in table %q cannot be read", name, p.Name, f.Name, f.Type, f.Table)
			}
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dev := cfg.Device
	dev.Profile = p.Name
	dev.Class = p.Class
	b, err := openBus(t)
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", name, err)
	}
	pl := &Poller{
		unit: t.Unit, timeout: cfg.Timeout, retries: cfg.Retries,
		profile: p, log: log, dev: dev, bus: b,
	}
	pl.invert = make([]bool, len(p.Fields))
	for i := range p.Fields {
		pl.invert[i] = cfg.Inverted(p.Fields[i].Name)
	}
	pl.src = make([]int, len(p.Fields))
	pl.replan()
	return pl, nil
}

// replan plans the reads over each field's source in use.
func (p *Poller) replan() {
	fields := p.profile.Fields
	if p.cur == nil {
		p.cur = make([]*profiles.Field, len(fields))
	}
	for i := range fields {
		p.cur[i] = fields[i].Source(p.src[i])
	}
	p.blocks = plan(p.cur)
	p.split = make([]bool, len(p.blocks))
}

// Poll reads every value of the device once, within ctx and the device's
// Timeout. Values whose registers answer a Modbus exception, a sentinel or
// an out-of-range number are SensorFault; if the device does not answer at
// all, Poll returns a comms-lost SampleSet and the error.
func (p *Poller) Poll(ctx context.Context) (collectors.SampleSet, error) {
	start := time.Now()
	timeout := p.timeout
	dl, ok := ctx.Deadline()
	if !ok && timeout == 0 {
		timeout = DefaultTimeout
	}
	// A caller's deadline that comes first (the scheduler's, which is
	// the same timeout) needs no context of our own.
	if timeout > 0 && (!ok || dl.After(start.Add(timeout))) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	fail := func(err error) (collectors.SampleSet, error) {
		err = fmt.Errorf("device %q: %w", p.dev.Name, err)
		// The specs are built for a failed poll only, rather than held
		// by every device.
		return collectors.Failed(p.dev, start, time.Since(start), p.profile.Specs(), err), err
	}
	if err := p.bus.acquire(ctx); err != nil {
		return fail(err)
	}
	defer p.bus.unlock()

	values := make([]collectors.Value, len(p.profile.Fields))
	refusedAt := make([]bool, len(p.profile.Fields))
	answered := false
	var commsErr error
	// settle stores the outcome of reading b: decoded values, a sensor
	// fault for each value of a refused read, or lost communication.
	settle := func(b *block, words []uint16, err error) {
		switch {
		case err == nil:
			answered = true
			p.decodeBlock(b, words, values)
		case refused(err):
			answered = true
			p.faultBlock(b, err, collectors.SensorFault, values)
			for _, fi := range b.Fields {
				refusedAt[fi] = true
			}
		default:
			commsErr = err
			p.faultBlock(b, err, collectors.CommsLost, values)
		}
	}
	for bi := range p.blocks {
		b := &p.blocks[bi]
		if !p.split[bi] || len(b.Fields) == 1 {
			words, err := p.read(ctx, b)
			if err == nil || !refused(err) || len(b.Fields) == 1 {
				settle(b, words, err)
				continue
			}
			answered = true
			var ex *exceptionError
			if errors.As(err, &ex) && ex.code == 2 {
				p.split[bi] = true
			}
			p.log.Debug("block exception, reading fields one by one", "table", b.Table, "start", b.Start, "count", b.Count, "err", err)
		}
		for _, fi := range b.Fields {
			one := single(p.cur, fi)
			words, err := p.read(ctx, &one)
			settle(&one, words, err)
		}
	}
	if !answered && commsErr != nil {
		return fail(commsErr)
	}
	p.fallBack(ctx, values, refusedAt)
	return collectors.SampleSet{Device: p.dev, Time: start, Duration: time.Since(start), Values: values}, nil
}

// read reads one block with the device's retries, each attempt getting an
// equal share of the time left.
func (p *Poller) read(ctx context.Context, b *block) ([]uint16, error) {
	var err error
	for attempt := 0; attempt <= p.retries; attempt++ {
		w := within{ctx: ctx}
		if dl, ok := ctx.Deadline(); ok && attempt < p.retries {
			now := time.Now()
			w.until = now.Add(dl.Sub(now) / time.Duration(p.retries-attempt+1))
		}
		var words []uint16
		words, err = p.bus.read(w, p.unit, b.Table, b.Start, b.Count)
		if err == nil || refused(err) {
			return words, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("unit %d: read %s %d..%d: %w", p.unit, tableNoun(b.Table), b.Start, int(b.Start)+int(b.Count)-1, err)
}

// refused reports whether err is a Modbus exception about the registers
// asked for. Exceptions 10 and 11 come from a gateway whose device behind
// it did not answer: those count as lost communication.
func refused(err error) bool {
	var ex *exceptionError
	return errors.As(err, &ex) && ex.code != 10 && ex.code != 11
}

func (p *Poller) decodeBlock(b *block, words []uint16, values []collectors.Value) {
	for _, fi := range b.Fields {
		f := p.cur[fi]
		off := int(f.Address - b.Start)
		values[fi] = Decode(f, words[off:off+Width(f)], p.invert[fi])
	}
}

// faultBlock gives every value of b quality q; a refused read names each
// value's register and the exception.
func (p *Poller) faultBlock(b *block, err error, q collectors.Quality, values []collectors.Value) {
	msg := err.Error()
	var ex *exceptionError
	perValue := refused(err) && errors.As(err, &ex)
	if perValue {
		msg = ex.Error()
	}
	for _, fi := range b.Fields {
		sp := p.profile.Fields[fi].Spec()
		v := collectors.Value{Name: sp.Name, Unit: sp.Unit, Kind: sp.Kind, Quality: q, Err: msg}
		if perValue {
			v.Err = Where(p.cur[fi]) + ": " + msg
		}
		values[fi] = v
	}
}

// Close releases the device's hold on its bus; the last device of a bus
// closes the connection.
func (p *Poller) Close() error {
	if p.bus == nil {
		return nil
	}
	b := p.bus
	p.bus = nil
	return b.release()
}

var _ collectors.Poller = (*Poller)(nil)
