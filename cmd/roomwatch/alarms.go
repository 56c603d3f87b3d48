package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
	"github.com/roomwatch/roomwatch/alerts/incident"
	rwc "github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

// alarmPipeline is the monitor's rules side: the rules engine evaluating
// every sample set, the publisher putting its transitions on JetStream
// with their state in the key-value bucket.
type alarmPipeline struct {
	log    *slog.Logger
	engine *rules.Engine
	pub    *alerts.Publisher
	// state keeps the state bucket in step with the alarm streams.
	state *alerts.StateApplier
	// acks applies the acknowledgements published on ROOMWATCH_ACKS.
	acks *alerts.AckApplier
	// told follows the notifier's delivery records into the daily
	// record until it is closed.
	told   chan struct{}
	kv     jetstream.KeyValue
	cancel context.CancelFunc
	// daily is the day's inspection record per room, fed by every sample
	// set and by the alarms on the site's subjects.
	daily *daily.Recorder
	subs  []jetstream.ConsumeContext
	// incidents, when configured, opens incidents and runs their clocks.
	incidents *incident.Tracker
}

// startAlarmPipeline creates the alarm streams and buckets, brings the
// state bucket up to date with the streams (a transition stored just
// before a kill -9), restores the alarm state from the bucket (so a firing
// alarm is not announced again and one that cleared while the monitor was
// down is resolved), and starts publishing.
func startAlarmPipeline(cfg *Config, nc *nats.Conn, js jetstream.JetStream, reg prometheus.Registerer, log *slog.Logger) (*alarmPipeline, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, s := range cfg.Sites {
		if err := alerts.EnsureStreams(ctx, js, s.Name, cfg.Alerts); err != nil {
			return nil, fmt.Errorf("alarm streams of site %s: %w", s.Name, err)
		}
	}
	kv, err := js.KeyValue(ctx, cfg.Alerts.StateBucket)
	if err != nil {
		return nil, fmt.Errorf("alarm state bucket %s: %w", cfg.Alerts.StateBucket, err)
	}
	stored, err := alerts.LoadState(ctx, kv)
	if err != nil {
		return nil, fmt.Errorf("alarm state bucket %s: load: %w", cfg.Alerts.StateBucket, err)
	}
	// The engine resolves the alarms of a site no longer configured at its
	// first tick: their stream must be there to record the resolution.
	sites := cfg.siteNames()
	for _, site := range removedSites(cfg, stored) {
		if err := alerts.EnsureStreams(ctx, js, site, cfg.Alerts); err != nil {
			return nil, fmt.Errorf("alarm streams of removed site %s: %w", site, err)
		}
		sites = append(sites, site)
	}
	// What the streams hold and the bucket missed (a kill -9 between the
	// two) is applied before the engine is restored from the bucket.
	p := &alarmPipeline{log: log.With("component", "alarms"), kv: kv}
	p.state = alerts.NewStateApplier(js, kv, cfg.Alerts, sites, p.log)
	if err := p.state.CatchUp(ctx); err != nil {
		return nil, fmt.Errorf("alarm state bucket %s: %w", cfg.Alerts.StateBucket, err)
	}
	if stored, err = alerts.LoadState(ctx, kv); err != nil {
		return nil, fmt.Errorf("alarm state bucket %s: load: %w", cfg.Alerts.StateBucket, err)
	}
	p.pub = alerts.NewPublisher(js, kv, alerts.PublisherOptions{}, p.log)
	reg.MustRegister(p.pub.Collectors()...)
	p.engine, err = rules.NewEngine(cfg.rules, cfg.inventory(), p.pub.Handle, rules.WithLogger(p.log),
		rules.WithValueTitles(cfg.profiles.ValueTitle))
	if err != nil {
		return nil, err
	}
	restored := alerts.RestoreAlerts(stored, "")
	p.engine.Restore(restored)
	p.log.Info("alarm state restored", "active", len(restored))
	pctx, pcancel := context.WithCancel(context.Background())
	p.cancel = pcancel
	p.pub.Start(pctx)
	if err := p.state.Start(pctx); err != nil {
		return p, err
	}
	p.acks = alerts.NewAckApplier(js, kv, p.pub, cfg.siteNames(), p.log)
	if err := p.acks.Start(pctx); err != nil {
		return p, err
	}

	dkv, err := js.KeyValue(ctx, cfg.Alerts.DailyBucket)
	if err != nil {
		return p, fmt.Errorf("daily record bucket %s: %w", cfg.Alerts.DailyBucket, err)
	}
	if p.daily, err = daily.NewRecorder(cfg.Daily, workingHours(cfg.rules), p.log.With("component", "daily")); err != nil {
		return p, err
	}
	if err := p.daily.Start(pctx, js, dkv, time.Now()); err != nil {
		return p, fmt.Errorf("daily record: %w", err)
	}
	for _, s := range cfg.Sites {
		sub, err := p.daily.FollowAlarms(pctx, js, alerts.AlarmStreamName(cfg.Alerts.StreamPrefix, s.Name))
		if err != nil {
			return p, fmt.Errorf("daily record: alarms of site %s: %w", s.Name, err)
		}
		p.subs = append(p.subs, sub)
	}
	if cfg.Incidents != nil {
		if err := p.startIncidents(pctx, cfg, js, dkv); err != nil {
			return p, err
		}
	}
	// Who was told of each alarm: the notifier's delivery records of the
	// last two days (the recorder holds yesterday's and today's records),
	// picked up whenever the notifier has created their stream.
	since := time.Now().Add(-48 * time.Hour)
	p.told = make(chan struct{})
	go func() {
		defer close(p.told)
		p.daily.FollowDeliveries(pctx, js, cfg.siteNames(), since, alerts.HeartbeatInterval)
	}()
	return p, nil
}

// removedSites returns the sites, no longer configured, of the active
// alarms among stored.
func removedSites(cfg *Config, stored []*alerts.Alarm) []string {
	var out []string
	for _, a := range stored {
		if a.Active() && !slices.Contains(out, a.Site) &&
			!slices.ContainsFunc(cfg.Sites, func(s Site) bool { return s.Name == a.Site }) {
			out = append(out, a.Site)
		}
	}
	slices.Sort(out)
	return out
}

// startIncidents starts the incident tracker on every site's alarms.
func (p *alarmPipeline) startIncidents(ctx context.Context, cfg *Config, js jetstream.JetStream, dkv jetstream.KeyValue) error {
	kv, err := incident.EnsureBucket(ctx, js, cfg.Incidents)
	if err != nil {
		return err
	}
	sites := make([]string, 0, len(cfg.Sites))
	for _, s := range cfg.Sites {
		sites = append(sites, s.Name)
	}
	store := incident.NewStore(js, kv, dkv, cfg.Incidents)
	tr, err := incident.NewTracker(cfg.Incidents, store, js, p.pub, incident.Options{
		Sites: sites, Inventory: cfg.inventory(), Alarms: cfg.Alerts, State: p.kv,
	}, p.log)
	if err != nil {
		return err
	}
	if err := tr.Start(ctx); err != nil {
		return err
	}
	p.incidents = tr
	return nil
}

// workingHours is the calendar of the rules' working_hours (the one the
// door-after-hours rule uses), for counting after-hours door openings in
// the daily record; without one, Monday to Friday 08:00–18:00.
func workingHours(rs []rules.Rule) func(time.Time) bool {
	for _, r := range rs {
		if r.When != nil && r.When.Calendar != nil && (r.When.Inside == "working_hours" || r.When.Outside == "working_hours") {
			return r.When.Calendar.Contains
		}
	}
	return func(t time.Time) bool {
		t = t.In(shanghai)
		wd := t.Weekday()
		return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 18
	}
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// Observe evaluates one sample set and adds it to the day's record. It
// returns once the transitions the set caused are stored by JetStream.
func (p *alarmPipeline) Observe(now time.Time, s rwc.SampleSet) {
	p.engine.Eval(now, s)
	p.daily.Observe(s)
}

// Tick advances time-based rules.
func (p *alarmPipeline) Tick(now time.Time) { p.engine.Tick(now) }

// SelfDevice is the monitor itself as a device of each site, for alarms
// about roomwatch's own health (the spool dropping data).
func SelfDevice(site string) rwc.Device {
	return rwc.Device{Site: site, Room: "roomwatch", Name: "roomwatch", Profile: "roomwatch", Class: "self"}
}

// ObserveSelf evaluates the monitor's own sample set: spool_dropped is the
// number of samples dropped since the previous one.
func (p *alarmPipeline) ObserveSelf(now time.Time, sites []string, dropped float64) {
	for _, site := range sites {
		p.engine.Eval(now, rwc.SampleSet{
			Device: SelfDevice(site), Time: now,
			Values: []rwc.Value{{Name: "spool_dropped", Num: dropped}},
		})
	}
}

// Update swaps rules and inventory, keeping the state of unchanged rules.
func (p *alarmPipeline) Update(cfg *Config) error { return p.engine.Update(cfg.rules, cfg.inventory()) }

// Stop publishes what is queued and writes the day's records, until ctx
// ends.
func (p *alarmPipeline) Stop(ctx context.Context) {
	for _, s := range p.subs {
		s.Stop()
	}
	if p.incidents != nil {
		if err := p.incidents.Stop(ctx); err != nil {
			p.log.Error("incident tracker", "err", err)
		}
	}
	if p.acks != nil {
		p.acks.Stop()
	}
	if err := p.pub.Stop(ctx); err != nil {
		p.log.Error("alarms not published at shutdown", "err", err)
	}
	if p.state != nil {
		p.state.Stop()
	}
	if p.daily != nil {
		if err := p.daily.Stop(ctx); err != nil {
			p.log.Error("daily records not written at shutdown", "err", err)
		}
	}
	p.cancel()
	if p.told != nil {
		<-p.told
	}
}
