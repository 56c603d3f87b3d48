package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/notify"
	"github.com/roomwatch/roomwatch/alerts/patrol"
	rwc "github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/collectors/snmp"
	"github.com/roomwatch/roomwatch/rules"
)

// app is the monitor: collectors → spool → InfluxDB, and collectors →
// rules → alarms on JetStream, with its self-monitoring HTTP listener.
// Start it once, Stop it once; Reload swaps the configuration.
type app struct {
	path string
	log  *slog.Logger

	mu  sync.Mutex // guards cfg and the job list during Reload
	cfg *Config
	cur []rwc.Job

	reg   *prometheus.Registry
	polls *pollMetrics
	im    *influx.Metrics

	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	spool  *influx.Spool
	writer *influx.Writer
	alarms *alarmPipeline
	// notifier runs when the configuration has a notify section, on a
	// connection of its own with the notifier's key.
	notifier *notify.Notifier
	notifyNC *nats.Conn
	patrol   *patrol.Server // the patrol screen, when configured

	sched   *rwc.Scheduler
	sims    *simulators
	simURLs map[string]string
	ownSims bool // sims were started by Start (not handed in) and are stopped by Stop

	ln       net.Listener
	http     *http.Server
	lastPoll atomic.Int64 // unix nanoseconds of the latest finished poll
	polled   atomic.Int64 // polls finished since Start
	ticks    atomic.Int64 // engine ticks done since Start
	reach    reachability // each device's last poll, for the heartbeat
	// heartbeatEvery is how often each site's heartbeat is published
	// (alerts.HeartbeatInterval; tests shorten it).
	heartbeatEvery time.Duration

	stop chan struct{}
	done chan struct{}
}

func newApp(cfg *Config, path string, log *slog.Logger) *app {
	return &app{path: path, cfg: cfg, log: log, stop: make(chan struct{}), done: make(chan struct{}),
		heartbeatEvery: alerts.HeartbeatInterval}
}

// Start brings the monitor up: NATS, spool and writer, alarm pipeline,
// simulators, pollers, HTTP. On error the caller calls Stop.
func (a *app) Start() error {
	a.reg = prometheus.NewRegistry()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.polls = newPollMetrics(a.reg)
	a.im = influx.NewMetrics(a.reg)

	var err error
	a.srv, a.nc, err = startNATS(a.cfg.NATS, a.log)
	if err != nil {
		return err
	}
	if a.js, err = jetstream.New(a.nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}

	if sims := a.cfg.simDevices(); len(sims) > 0 && a.sims == nil {
		a.sims, a.simURLs, err = startSimulators(sims, "127.0.0.1", a.log)
		if err != nil {
			return err
		}
		a.ownSims = true
	}
	jobs, err := a.buildJobs(a.cfg)
	if err != nil {
		return err
	}

	spoolCfg := a.cfg.Influx.Spool
	if spoolCfg.MaxBytes == 0 {
		spoolCfg.MaxBytes = influx.DefaultMaxBytes(loads(jobs), influx.DefaultHold)
		if a.srv != nil {
			spoolCfg.MaxBytes = fitSpool(spoolCfg.MaxBytes, a.cfg.NATS.StoreDir, a.log)
		}
	}
	spoolCfg.Precision = a.cfg.Influx.Precision
	if a.spool, err = influx.NewSpool(a.nc, spoolCfg, a.log.With("component", "spool"), a.im); err != nil {
		return err
	}
	a.spool.Start()
	wcfg := a.cfg.Influx
	wcfg.Spool = spoolCfg
	if a.writer, err = influx.NewWriter(a.nc, wcfg, a.log.With("component", "influx"), a.im); err != nil {
		return err
	}
	if err := a.writer.Start(context.Background()); err != nil {
		return err
	}

	a.alarms, err = startAlarmPipeline(a.cfg, a.nc, a.js, a.reg, a.log)
	if err != nil {
		return err
	}

	if err := a.startNotifier(); err != nil {
		return err
	}

	a.sched = rwc.NewScheduler(a.sink, 0, a, a.log.With("component", "scheduler"))
	a.sched.Set(jobs)
	a.cur = jobs
	go a.tick()

	if err := a.listen(); err != nil {
		return err
	}
	if a.cfg.Patrol != nil {
		if a.patrol, err = startPatrol(a.cfg, a.nc, true, a.log); err != nil {
			return fmt.Errorf("patrol screen: %w", err)
		}
	}
	a.log.Info("monitor started", "devices", len(jobs), "http", a.Addr(), "nats_embedded", a.srv != nil,
		"spool_max_bytes", spoolCfg.MaxBytes.String(), "rules", len(a.cfg.rules))
	return nil
}

// sink receives every SampleSet from the pollers: the rules engine and
// the daily record, then the spool for InfluxDB. The alarms come first:
// Observe returns once the transitions the set caused are stored, so a
// sample that reached the spool never shows an episode whose alarm a
// kill -9 could lose.
func (a *app) sink(s rwc.SampleSet) {
	a.alarms.Observe(s.Time, s)
	a.spool.Publish(s)
}

// Polled implements collectors.Observer.
func (a *app) Polled(s *rwc.SampleSet, err error) {
	a.lastPoll.Store(time.Now().UnixNano())
	a.polled.Add(1)
	a.reach.polled(s)
	a.polls.Polled(s, err)
}

// Skipped implements collectors.Observer.
func (a *app) Skipped(d rwc.Device, ticks int) { a.polls.Skipped(d, ticks) }

// selfEvery is how often the monitor evaluates its own sample set.
const selfEvery = 10 * time.Second

// tick drives time-based rules (no-data, for, calendars) once a second,
// the self sample set every 10 s, and the sites' heartbeats. One ticker
// drives all three, so an idle monitor wakes once a second rather than
// once more for every timer.
func (a *app) tick() {
	defer close(a.done)
	every := min(time.Second, a.heartbeatEvery)
	t := time.NewTicker(every)
	defer t.Stop()
	var lastDropped uint64
	lastSelf := time.Now()
	lastHB := lastSelf
	a.heartbeat(lastHB)
	// due reports whether period has passed since last, give or take
	// half a tick (a ticker's time jitters around its period).
	due := func(now, last time.Time, period time.Duration) bool { return now.Sub(last) >= period-every/2 }
	for {
		select {
		case <-a.stop:
			return
		case now := <-t.C:
			a.alarms.Tick(now)
			a.ticks.Add(1)
			if due(now, lastSelf, selfEvery) {
				lastSelf = now
				dropped := a.im.Dropped()
				a.alarms.ObserveSelf(now, a.sites(), float64(dropped-lastDropped))
				lastDropped = dropped
			}
			if due(now, lastHB, a.heartbeatEvery) {
				lastHB = now
				a.heartbeat(now)
			}
		}
	}
}

func (a *app) sites() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.siteNames()
}

// siteNames are the configured sites' names.
func (c *Config) siteNames() []string {
	out := make([]string, len(c.Sites))
	for i, s := range c.Sites {
		out[i] = s.Name
	}
	return out
}

func (a *app) jobs() []rwc.Job {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// buildJobs makes a poller for every configured device.
func (a *app) buildJobs(cfg *Config) ([]rwc.Job, error) {
	dcs, err := cfg.deviceConfigs(a.simURLs)
	if err != nil {
		return nil, err
	}
	jobs := make([]rwc.Job, 0, len(dcs))
	for _, dc := range dcs {
		var (
			poller rwc.Poller
			err    error
			specs  []rwc.ValueSpec
		)
		if dc.Device.Profile == snmp.ProfileAuto {
			poller, err = snmp.NewAuto(dc, cfg.profiles, a.log.With("device", dc.Device.ID()))
		} else {
			p := cfg.profiles[dc.Device.Profile]
			specs = p.Specs()
			poller, err = newPoller(dc, p, a.log)
		}
		if err != nil {
			for _, j := range jobs {
				_ = j.Poller.Close()
			}
			return nil, err
		}
		jobs = append(jobs, rwc.Job{Config: dc, Poller: poller, Specs: specs})
	}
	return jobs, nil
}

func loads(jobs []rwc.Job) []influx.Load {
	out := make([]influx.Load, len(jobs))
	for i, j := range jobs {
		out[i] = influx.Load{Values: len(j.Specs), Interval: j.Config.Interval}
	}
	return out
}

// Reload applies a changed configuration file (SIGHUP): devices added,
// removed or changed, rules and inventory swapped with alarm state kept.
// The NATS, InfluxDB and HTTP settings need a restart. On any error the
// running configuration stays.
func (a *app) Reload() error {
	cfg, err := loadConfig(a.path)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if fmt.Sprint(simIDs(cfg.simDevices())) != fmt.Sprint(simIDs(a.cfg.simDevices())) {
		return errors.New("simulated devices changed: restart to apply")
	}
	jobs, err := a.buildJobs(cfg)
	if err != nil {
		return err
	}
	if err := a.alarms.Update(cfg); err != nil {
		for _, j := range jobs {
			_ = j.Poller.Close()
		}
		return err
	}
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j.Config.Device.ID()] = true
	}
	for _, j := range a.cur {
		if !keep[j.Config.Device.ID()] {
			a.polls.forget(j.Config.Device)
		}
	}
	a.sched.Set(jobs)
	a.cur = jobs
	a.cfg = cfg
	a.log.Info("configuration reloaded", "devices", len(jobs), "rules", len(cfg.rules))
	return nil
}

func simIDs(devs []simDevice) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.ID + "=" + d.Profile.Name
	}
	return out
}

// Stop shuts down in dependency order, flushing what can be flushed:
// pollers first (no new samples), then alarms and records, then the spool
// queue into JetStream, then the writer, then NATS.
func (a *app) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if a.http != nil {
		_ = a.http.Shutdown(ctx)
	}
	if a.patrol != nil {
		a.patrol.Stop(ctx)
	}
	if a.sched != nil {
		a.sched.Stop()
		close(a.stop)
		<-a.done
	}
	if a.sims != nil && a.ownSims {
		a.sims.Stop()
	}
	if a.notifier != nil {
		a.notifier.Stop()
	}
	if a.notifyNC != nil {
		a.notifyNC.Close()
	}
	if a.alarms != nil {
		a.alarms.Stop(ctx)
	}
	if a.spool != nil {
		if lost := a.spool.Stop(ctx); lost > 0 {
			a.log.Error("samples not spooled at shutdown", "lost", lost)
		}
	}
	if a.writer != nil {
		a.writer.Stop()
	}
	stopNATS(a.srv, a.nc)
}

// listen starts the HTTP listener: /metrics, /healthz, /debug/pprof/
// (Go profiles, for the engineer chasing CPU or memory; on loopback or
// with http.pprof only), and /sim/ when simulated devices run.
func (a *app) listen() error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("GET /healthz", a.healthz)
	if a.cfg.HTTP.servesPprof() {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if a.sims != nil {
		mux.Handle("/sim/", http.StripPrefix("/sim", a.sims.Store.Handler()))
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	a.ln = ln
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http", "err", err)
		}
	}()
	return nil
}

// Addr is the HTTP listener's address.
func (a *app) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// healthz answers 200 only when the collectors run (a poll finished within
// three of the longest intervals) and the spool is writable.
func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	var problems []string
	jobs := a.jobs()
	longest := time.Duration(0)
	for _, j := range jobs {
		longest = max(longest, j.Config.Interval)
	}
	if len(jobs) > 0 {
		last := time.Unix(0, a.lastPoll.Load())
		if since := time.Since(last); since > 3*longest+5*time.Second {
			problems = append(problems, fmt.Sprintf("collectors: no poll finished for %v", since.Round(time.Second)))
		}
	}
	if err := a.spool.Healthy(); err != nil {
		problems = append(problems, "spool: "+err.Error())
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range problems {
			fmt.Fprintln(w, p)
		}
		return
	}
	fmt.Fprintf(w, "ok: %d devices\n", len(jobs))
}

// inventory turns the configuration into the rules engine's inventory.
func (c *Config) inventory() rules.Inventory {
	var inv rules.Inventory
	for _, s := range c.Sites {
		site := rules.Site{Name: s.Name, Title: titles(s.Title, s.TitleEN, s.Name), Overrides: s.Rules}
		for _, r := range s.Rooms {
			room := rules.Room{Name: r.Name, Title: titles(r.Title, r.TitleEN, r.Name), CarryTime: r.CarryTime, Overrides: r.overrides()}
			for _, d := range r.Devices {
				room.Devices = append(room.Devices, rules.DeviceInfo{Device: c.device(s.Name, r.Name, &d), Interval: d.Interval, Title: titles(d.Title, d.TitleEN, d.Name)})
			}
			site.Rooms = append(site.Rooms, room)
		}
		inv.Sites = append(inv.Sites, site)
	}
	return inv
}

// titles is a name's title by language: a missing one is the other
// language's title (a person's name for the thing beats its id), or the
// name when there is neither.
func titles(zh, en, name string) map[string]string {
	if zh == "" {
		zh = cmp.Or(en, name)
	}
	if en == "" {
		en = zh
	}
	return map[string]string{"zh": zh, "en": en}
}

// startNotifier runs the notifier in the monitor's process when the
// configuration has a notify section (a single room needs one process).
func (a *app) startNotifier() error {
	if a.cfg.Notify == nil {
		return nil
	}
	// The acknowledgement stream is the monitor's to make (the notifier's
	// key may only read it).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := a.js.CreateOrUpdateStream(ctx, a.cfg.Alerts.AckStreamConfig())
	cancel()
	if err != nil {
		return fmt.Errorf("ack stream %s: %w", alerts.AckStream, err)
	}
	nc, err := connectRole(a.cfg.NATS, a.srv, roleNotifier, a.log)
	if err != nil {
		return err
	}
	a.notifyNC = nc
	n, err := notify.New(a.cfg.Notify, nc, notify.Options{Alerts: a.cfg.Alerts}, a.log)
	if err != nil {
		return err
	}
	if err := n.Start(context.Background()); err != nil {
		return err
	}
	a.notifier = n
	return nil
}
