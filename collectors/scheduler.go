package collectors

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// Job is one device to poll: its configuration, its poller, and the values
// its profile declares (used for comms-lost sets when a poll panics).
type Job struct {
	Config DeviceConfig
	Poller Poller
	Specs  []ValueSpec
}

// Observer is told about every poll, for self-monitoring. Methods are
// called from the pollers' goroutines and must not block.
type Observer interface {
	// Polled reports a finished poll.
	Polled(s *SampleSet, err error)
	// Skipped reports ticks missed because the previous poll of the
	// device was still running.
	Skipped(dev Device, ticks int)
}

// Scheduler polls every device on its own interval, with a phase offset
// (jitter) derived from the device's name so polls spread over the
// interval, a total deadline per poll, and a bound on polls in flight.
// Each device has its own goroutine, so a device that hangs holds only
// its own poll and one concurrency slot until its deadline.
type Scheduler struct {
	log  *slog.Logger
	sink func(SampleSet)
	obs  Observer
	sem  chan struct{}

	mu   sync.Mutex
	jobs map[string]*running
}

type running struct {
	job    Job
	cancel context.CancelFunc
	done   chan struct{}
}

// NewScheduler returns a scheduler handing every SampleSet to sink.
// maxInFlight bounds concurrent polls (0 means 256). obs may be nil.
func NewScheduler(sink func(SampleSet), maxInFlight int, obs Observer, log *slog.Logger) *Scheduler {
	if maxInFlight <= 0 {
		maxInFlight = 256
	}
	return &Scheduler{
		log: log, sink: sink, obs: obs,
		sem:  make(chan struct{}, maxInFlight),
		jobs: map[string]*running{},
	}
}

// Set makes the scheduled jobs exactly jobs: new devices start, removed
// ones stop (their pollers closed), and a device whose configuration
// changed restarts with its new poller. A job whose configuration is
// unchanged keeps running and the new poller passed for it is closed.
func (s *Scheduler) Set(jobs []Job) {
	want := map[string]Job{}
	for _, j := range jobs {
		want[j.Config.Device.ID()] = j
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.jobs {
		j, ok := want[id]
		if ok && sameConfig(r.job.Config, j.Config) {
			_ = j.Poller.Close()
			delete(want, id)
			continue
		}
		r.stop()
		delete(s.jobs, id)
	}
	for id, j := range want {
		ctx, cancel := context.WithCancel(context.Background())
		r := &running{job: j, cancel: cancel, done: make(chan struct{})}
		s.jobs[id] = r
		go s.loop(ctx, r)
	}
}

// Stop stops every job and waits for polls in flight to end.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.jobs {
		r.stop()
		delete(s.jobs, id)
	}
}

// Devices returns the devices being polled.
func (s *Scheduler) Devices() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Device, 0, len(s.jobs))
	for _, r := range s.jobs {
		out = append(out, r.job.Config.Device)
	}
	return out
}

func (r *running) stop() {
	r.cancel()
	<-r.done
	_ = r.job.Poller.Close()
}

func sameConfig(a, b DeviceConfig) bool { return reflect.DeepEqual(a, b) }

// PhaseGrain is the resolution of the devices' phases. Devices whose
// phase falls in the same slot are polled together, so the process wakes
// once per slot instead of once per device (a wake-up costs far more than
// the poll on a small VM); with intervals of up to PhaseGrain every device
// polls at the top of its interval, like Telegraf's round_interval.
const PhaseGrain = time.Second

// Offset is the device's phase within its interval, counted from wall-clock
// multiples of the interval: stable across restarts, spread over the slots
// of PhaseGrain in the interval.
func Offset(id string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	grain := min(interval, PhaseGrain)
	slots := uint64(interval / grain)
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64()%slots) * grain
}

// firstTick is the first poll time at or after now for a device with this
// interval and phase.
func firstTick(now time.Time, interval, offset time.Duration) time.Time {
	next := now.Truncate(interval).Add(offset)
	if next.Before(now) {
		next = next.Add(interval)
	}
	return next
}

func (s *Scheduler) loop(ctx context.Context, r *running) {
	defer close(r.done)
	cfg := r.job.Config
	id := cfg.Device.ID()
	log := s.log.With("device", id)
	interval := cfg.Interval
	timeout := cfg.Timeout
	if timeout <= 0 || timeout > interval {
		timeout = interval
	}
	next := firstTick(time.Now(), interval, Offset(id, interval))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		set, err := pollOnce(ctx, &r.job, timeout)
		<-s.sem
		if ctx.Err() != nil {
			return // stopped mid-poll: the result is an artefact of stopping
		}
		if s.obs != nil {
			s.obs.Polled(&set, err)
		}
		if err != nil {
			log.Debug("poll", "err", err)
		}
		s.sink(set)

		next = next.Add(interval)
		now := time.Now()
		if missed := now.Sub(next); missed >= 0 {
			ticks := int(missed/interval) + 1
			next = next.Add(time.Duration(ticks) * interval)
			log.Warn("poll overran its interval; ticks skipped", "skipped", ticks, "interval", interval)
			if s.obs != nil {
				s.obs.Skipped(cfg.Device, ticks)
			}
		}
		timer.Reset(next.Sub(now))
	}
}

// pollOnce runs one poll under its deadline. A panicking poller (a bug
// provoked by a device's garbage) becomes a comms-lost set for that
// device only.
func pollOnce(ctx context.Context, j *Job, timeout time.Duration) (set SampleSet, err error) {
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("device %s: poll panicked: %v", j.Config.Device.ID(), p)
			set = Failed(j.Config.Device, start, time.Since(start), j.Specs, err)
		}
	}()
	set, err = j.Poller.Poll(pctx)
	if set.Time.IsZero() {
		set.Time = start
	}
	if set.Duration == 0 {
		set.Duration = time.Since(start)
	}
	if set.Device.Name == "" {
		set.Device = j.Config.Device
	}
	if err != nil && set.Err == "" {
		set.Err = err.Error()
	}
	return set, err
}
