package main

import (
	"fmt"
	"log/slog"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
	"github.com/roomwatch/roomwatch/collectors/nut"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/snmp"
)

// pollerKinds maps a profile's protocol to the poller constructor.
var pollerKinds = map[string]func(collectors.DeviceConfig, *profiles.Profile, *slog.Logger) (collectors.Poller, error){
	"snmp": func(c collectors.DeviceConfig, p *profiles.Profile, l *slog.Logger) (collectors.Poller, error) {
		return snmp.New(c, p, l)
	},
	"modbus": func(c collectors.DeviceConfig, p *profiles.Profile, l *slog.Logger) (collectors.Poller, error) {
		return modbus.New(c, p, l)
	},
	"nut": func(c collectors.DeviceConfig, p *profiles.Profile, l *slog.Logger) (collectors.Poller, error) {
		return nut.New(c, p, l)
	},
}

// newPoller builds the poller for one device.
func newPoller(c collectors.DeviceConfig, p *profiles.Profile, log *slog.Logger) (collectors.Poller, error) {
	mk, ok := pollerKinds[p.Protocol]
	if !ok {
		return nil, fmt.Errorf("device %s: profile %s: no poller for protocol %q", c.Device.ID(), p.Name, p.Protocol)
	}
	return mk(c, p, log.With("device", c.Device.ID()))
}
