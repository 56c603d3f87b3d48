package main

import (
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	rwc "github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

// reachability remembers whether each device answered its last poll, for
// the heartbeat.
type reachability struct {
	mu sync.Mutex
	up map[rwc.DeviceKey]bool // by device, without building Device.ID every poll
}

func (r *reachability) polled(s *rwc.SampleSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.up == nil {
		r.up = map[rwc.DeviceKey]bool{}
	}
	r.up[s.Device.Key()] = s.Reachable()
}

func (r *reachability) reachable(d *rwc.Device) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up[d.Key()]
}

// heartbeats builds the heartbeat of every configured site at now:
// its devices, how many answered their last poll, its alarms firing.
func (a *app) heartbeats(now time.Time) []alerts.Heartbeat {
	sites := a.sites()
	jobs := a.jobs()
	firing := a.alarms.firing()
	out := make([]alerts.Heartbeat, 0, len(sites))
	for _, site := range sites {
		h := alerts.Heartbeat{Site: site, At: now, Firing: firing[site]}
		for _, j := range jobs {
			if d := j.Config.Device; d.Site == site {
				h.Devices++
				if a.reach.reachable(&d) {
					h.Reachable++
				}
			}
		}
		out = append(out, h)
	}
	return out
}

// heartbeat publishes every site's heartbeat (alerts.Heartbeat): the
// notifier pages the person on duty when a site falls silent.
func (a *app) heartbeat(now time.Time) {
	for _, h := range a.heartbeats(now) {
		if err := alerts.PublishHeartbeat(a.nc, h); err != nil {
			a.log.Warn("heartbeat not published", "site", h.Site, "err", err)
		}
	}
}

// firing counts the alerts firing now by site.
func (p *alarmPipeline) firing() map[string]int {
	out := map[string]int{}
	for _, al := range p.engine.Alerts() {
		if al.State == rules.Firing {
			out[al.Labels[rules.LabelSite]]++
		}
	}
	return out
}
