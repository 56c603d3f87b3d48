package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// ProfileAuto is the profile name that asks for auto-detection.
const ProfileAuto = "auto"

// AutoPoller polls a device configured with `profile: auto`. The first
// poll detects the profile (Detect) and logs the choice; later polls use
// it. When a poll of the chosen profile yields no good value (the device
// stops answering, or answers none of the profile's objects, as after a
// card swap), the next poll detects again.
type AutoPoller struct {
	cfg collectors.DeviceConfig
	set profiles.Set
	log *slog.Logger
	tr  Transport

	mu  sync.Mutex
	cur *Poller
	id  Identity
}

var _ collectors.Poller = (*AutoPoller)(nil)

// NewAuto validates a device and returns its AutoPoller, choosing among
// the SNMP profiles of set. It does no network I/O.
func NewAuto(cfg collectors.DeviceConfig, set profiles.Set, log *slog.Logger) (*AutoPoller, error) {
	probe := &profiles.Profile{Name: ProfileAuto, Protocol: "snmp"}
	if err := check(&cfg, probe); err != nil {
		return nil, err
	}
	c, err := newClient(cfg.Target, cfg.Timeout, cfg.Retries)
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", cfg.Device.Name, err)
	}
	return newAuto(cfg, set, c, log), nil
}

// NewAutoWithTransport is NewAuto with a given Transport.
func NewAutoWithTransport(cfg collectors.DeviceConfig, set profiles.Set, tr Transport, log *slog.Logger) (*AutoPoller, error) {
	probe := &profiles.Profile{Name: ProfileAuto, Protocol: "snmp"}
	if err := check(&cfg, probe); err != nil {
		return nil, err
	}
	return newAuto(cfg, set, tr, log), nil
}

func newAuto(cfg collectors.DeviceConfig, set profiles.Set, tr Transport, log *slog.Logger) *AutoPoller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Device.Profile = ProfileAuto
	return &AutoPoller{cfg: cfg, set: set, log: log, tr: tr}
}

// Identity is what the last detection found (zero before the first).
func (a *AutoPoller) Identity() Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// Poll detects the profile if none is chosen, then polls with it.
func (a *AutoPoller) Poll(ctx context.Context) (collectors.SampleSet, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == nil {
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		id, err := Detect(dctx, a.tr, a.set)
		cancel()
		if err == nil && id.Profile == nil {
			err = errors.New(id.Why)
		}
		if err != nil {
			err = fmt.Errorf("device %q (%s): auto-detect profile: %w", a.cfg.Device.Name, a.cfg.Target, err)
			return collectors.Failed(a.cfg.Device, start, time.Since(start), nil, err), err
		}
		if id.Profile.Name != a.id.ProfileName() {
			a.log.Info("profile auto-detected", "profile", id.Profile.Name, "sys_object_id", id.SysObjectID, "sys_descr", id.SysDescr, "why", id.Why)
		}
		a.id = id
		cfg := a.cfg
		cfg.Device.Profile = id.Profile.Name
		a.cur = newPoller(cfg, id.Profile, a.tr, a.log)
	}
	s, err := a.cur.Poll(ctx)
	if !anyGood(&s) {
		a.log.Info("device answers none of its profile's values: detecting its profile again on the next poll", "profile", a.id.ProfileName())
		a.cur = nil
	}
	return s, err
}

func anyGood(s *collectors.SampleSet) bool {
	for i := range s.Values {
		if s.Values[i].Quality == collectors.Good {
			return true
		}
	}
	return false
}

// Close releases the device's socket.
func (a *AutoPoller) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tr.Close()
}
