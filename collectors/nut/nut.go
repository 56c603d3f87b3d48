// Package nut reads UPSes through Network UPS Tools' upsd
// (nut://host:3493/upsname), so every UPS NUT has a driver for can be
// monitored: a hospital server with a small UPS on USB already runs it.
//
// A Poller keeps one TCP connection to upsd, asks LIST VAR once per poll
// under the device timeout and dials again after an error. Decode maps
// NUT's variable names to the profile's values (collectors/profiles
// builtin nut-ups): a variable the driver does not report is a sensor
// fault naming it; no answer, or an ERR such as DATA-STALE, is
// comms-lost.
package nut

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// DefaultTimeout is the poll deadline when the device config sets none.
const DefaultTimeout = 5 * time.Second

// Poller polls one UPS through upsd. Polls of one Poller run one at a
// time over its one connection.
type Poller struct {
	cfg   collectors.DeviceConfig
	prof  *profiles.Profile
	dev   collectors.Device
	specs []collectors.ValueSpec
	log   *slog.Logger

	mu sync.Mutex
	c  client
}

var _ collectors.Poller = (*Poller)(nil)

// New validates a device and its profile; it does no network I/O.
func New(cfg collectors.DeviceConfig, p *profiles.Profile, log *slog.Logger) (*Poller, error) {
	name := cfg.Device.Name
	switch {
	case p == nil:
		return nil, fmt.Errorf("device %q: no profile", name)
	case p.Protocol != "nut":
		return nil, fmt.Errorf("device %q: profile %q is a %s profile, a nut:// device needs a nut profile", name, p.Name, p.Protocol)
	case cfg.Target.Scheme != collectors.SchemeNUT:
		return nil, fmt.Errorf("device %q: target %s is not nut://", name, cfg.Target)
	case cfg.Target.UPS == "":
		return nil, fmt.Errorf("device %q: target %s names no UPS", name, cfg.Target)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("device %q: timeout %v: must be positive", name, cfg.Timeout)
	}
	for _, f := range p.Fields {
		if _, ok := statusCodes[f.Name]; f.Type == "status" && !ok {
			return nil, fmt.Errorf("device %q: profile %q: value %s: a status value must be one of %v", name, p.Name, f.Name, StatusValues())
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dev := cfg.Device.Polled(p.Class, p.Name)
	return &Poller{
		cfg: cfg, prof: p, dev: dev, specs: p.Specs(), log: log,
		c: client{
			addr: cfg.Target.Host, ups: cfg.Target.UPS,
			user: cfg.Target.User, pass: cfg.Target.Password, login: cfg.Target.Login,
		},
	}, nil
}

// Poll reads the UPS once, within the device timeout and ctx's deadline.
// If upsd does not answer, or answers ERR, Poll returns a comms-lost
// SampleSet and the error.
func (p *Poller) Poll(ctx context.Context) (collectors.SampleSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	vars, err := p.c.listVars(ctx, p.cfg.Target.UPS)
	took := time.Since(start)
	if err != nil {
		err = fmt.Errorf("device %q (%s): %w", p.dev.Name, p.cfg.Target, err)
		return collectors.Failed(p.dev, start, took, p.specs, err), err
	}
	return collectors.SampleSet{
		Device: p.dev, Time: start, Duration: took,
		Values: Decode(p.prof, vars, p.cfg.Inverted),
	}, nil
}

// Close logs out and closes the connection to upsd.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c.close()
}
