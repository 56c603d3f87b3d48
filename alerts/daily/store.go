package daily

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors"
)

// persist is the Recorder's link to JetStream, set by Start.
type persist struct {
	kv      jetstream.KeyValue
	js      jetstream.JetStream
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
	// flushMu serialises flushes (the loop's and Stop's).
	flushMu chan struct{}
	// enc is the flush's encoding buffer, used under flushMu.
	enc jsonBuf
}

// Start loads the records of now's day and the day before from kv (the
// daily bucket, see alerts.EnsureStreams), so the day continues where a
// previous run left it, then writes changed records to kv and publishes
// them on roomwatch.daily.<site>.<room>.<yyyymmdd> until Stop: at the
// next FlushInterval after an event, at most every StatsInterval when
// only statistics changed. Days before the day before now are never
// written again.
func (r *Recorder) Start(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue, now time.Time) error {
	today := r.dayStart(now)
	yesterday := today.AddDate(0, 0, -1)
	var loaded []*Record
	for _, d := range []time.Time{yesterday, today} {
		recs, err := loadDay(ctx, kv, d.Format(time.DateOnly))
		if err != nil {
			return err
		}
		loaded = append(loaded, recs...)
	}

	r.mu.Lock()
	r.floor = yesterday.Format(time.DateOnly)
	r.gen++
	for _, rec := range loaded {
		k := recKey{rec.Site, rec.Room, rec.Date}
		if cur := r.records[k]; cur != nil {
			r.log.Warn("daily record observed before Start: the stored one wins", "record", rec.String())
		}
		r.records[k] = rec
		// Later days overwrite earlier ones: the track is the device's
		// latest known state.
		for name, dd := range rec.Devices {
			k := collectors.DeviceKey{Site: rec.Site, Room: rec.Room, Name: name}
			tr := r.tracks[k]
			if tr != nil && !dd.LastPollAt.After(tr.last) {
				continue
			}
			tr = &track{last: dd.LastPollAt, reachable: dd.Reachable}
			tr.follow(dd.Last, false)
			r.tracks[k] = tr
		}
	}
	r.kv, r.js = kv, js
	r.flushMu = make(chan struct{}, 1)
	r.started = true
	r.mu.Unlock()
	r.log.Info("daily records loaded", "records", len(loaded), "from", r.floor)

	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.loop(ctx)
	return nil
}

// loadDay reads every record of date from kv.
func loadDay(ctx context.Context, kv jetstream.KeyValue, date string) ([]*Record, error) {
	w, err := kv.WatchFiltered(ctx, []string{"*.*." + date}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("daily bucket %s: watch %s: %w", kv.Bucket(), date, err)
	}
	defer func() { _ = w.Stop() }()
	var out []*Record
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("daily bucket %s: load %s: %w", kv.Bucket(), date, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("daily bucket %s: load %s: watcher closed", kv.Bucket(), date)
			}
			if e == nil {
				return out, nil
			}
			rec, err := Unmarshal(e.Value())
			if err != nil {
				return nil, fmt.Errorf("daily bucket %s: key %s: %w", kv.Bucket(), e.Key(), err)
			}
			out = append(out, rec)
		}
	}
}

// Load reads the record of site/room on date (yyyy-mm-dd) from kv, for
// the patrol screen.
func Load(ctx context.Context, kv jetstream.KeyValue, site, room, date string) (*Record, error) {
	key := alerts.DailyKey(site, room, date)
	e, err := kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("daily record %s: get: %w", key, err)
	}
	return Unmarshal(e.Value())
}

func (r *Recorder) loop(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Under a deadline: a flush never outlives the next one, and
			// the connection flush at its end needs one.
			fctx, cancel := context.WithTimeout(ctx, r.cfg.FlushInterval)
			err := r.flush(fctx, time.Now(), false)
			cancel()
			if err != nil && ctx.Err() == nil {
				r.log.Warn("daily records not written; retrying at the next flush", "err", err)
			}
		}
	}
}

// Stop ends the flush loop and writes every changed record under ctx.
func (r *Recorder) Stop(ctx context.Context) error {
	if !r.started {
		return nil
	}
	r.cancel()
	<-r.done
	return r.Flush(ctx)
}

// Flush writes every changed record to the bucket and publishes it, then
// forgets records older than the day before the newest one.
func (r *Recorder) Flush(ctx context.Context) error {
	return r.flush(ctx, time.Now(), true)
}

// due reports whether rec's changes are to be written at a flush at now:
// an event at once, statistics when the record was last written a
// StatsInterval ago (give or take half a flush interval, so a record
// written at one tick is due again at the tick StatsInterval later, not
// one after); all says every change is.
func (r *Recorder) due(rec *Record, now time.Time, all bool) bool {
	switch rec.pending {
	case clean:
		return false
	case eventChange:
		return true
	}
	return all || now.Sub(rec.writtenAt) >= r.cfg.StatsInterval-r.cfg.FlushInterval/2
}

// flush writes the records due at now (see due) as Flush does.
func (r *Recorder) flush(ctx context.Context, now time.Time, all bool) error {
	if r.kv == nil {
		return fmt.Errorf("daily: flush: not started")
	}
	select {
	case r.flushMu <- struct{}{}:
		defer func() { <-r.flushMu }()
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	var batch []*Record
	for _, rec := range r.records {
		if r.due(rec, now, all) {
			batch = append(batch, rec)
		}
	}
	r.mu.Unlock()

	// One record at a time, into one buffer: a room's record runs to
	// hundreds of kilobytes by the evening, and the bucket and the
	// connection copy what they are given.
	var errs []error
	nc := r.js.Conn()
	for _, rec := range batch {
		r.mu.Lock()
		data, err := rec.marshalTo(&r.enc)
		was := rec.pending
		if err == nil {
			rec.pending = clean
		}
		r.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("daily record %s: encode: %w", rec, err))
			continue
		}
		// A record's site, room and date never change: its key and
		// subject are worked out outside the lock.
		key, subj := rec.key(), rec.subject()
		if _, err := r.kv.Put(ctx, key, data); err != nil {
			errs = append(errs, fmt.Errorf("daily record %s: put %s: %w", rec, key, err))
			r.mu.Lock()
			rec.mark(was) // the ones after it still are
			r.mu.Unlock()
			break
		}
		r.mu.Lock()
		rec.writtenAt = now
		r.mu.Unlock()
		if err := nc.Publish(subj, data); err != nil {
			errs = append(errs, fmt.Errorf("daily record %s: publish %s: %w", rec, subj, err))
		}
	}
	if len(errs) == 0 {
		if err := nc.FlushWithContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("daily records: flush connection: %w", err))
		}
	}
	r.evict()
	return errors.Join(errs...)
}

// evict forgets clean records more than a day older than the newest.
func (r *Recorder) evict() {
	r.mu.Lock()
	defer r.mu.Unlock()
	newest := ""
	for k := range r.records {
		newest = max(newest, k.date)
	}
	if newest == "" {
		return
	}
	d, err := time.ParseInLocation(time.DateOnly, newest, r.loc)
	if err != nil {
		return
	}
	keep := d.AddDate(0, 0, -1).Format(time.DateOnly)
	for k, rec := range r.records {
		if k.date < keep && rec.pending == clean {
			delete(r.records, k)
			r.gen++
		}
	}
	if keep > r.floor {
		r.floor = keep
		r.gen++
	}
}

// FollowAlarms folds every alarm message stored in stream (one site's
// alarm stream) from now on (firing, acknowledged by a consumer, resolved)
// into the records, until the caller stops the returned context.
// Messages that do not decode are logged and skipped.
//
// It reads through an ordered JetStream consumer, whose messages arrive
// on an inbox, not through a subscription to the alarm subjects: nothing
// in roomwatch listens on those subjects, so a push consumer that a
// client points at them (to slip a message into the alarm stream) never
// becomes active.
func (r *Recorder) FollowAlarms(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.ConsumeContext, error) {
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, fmt.Errorf("daily: follow alarms of %s: %w", stream, err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		a, err := alerts.Unmarshal(m.Data())
		if err != nil {
			r.log.Warn("alarm message skipped", "subject", m.Subject(), "err", err)
			return
		}
		r.ObserveAlarm(a)
	})
	if err != nil {
		return nil, fmt.Errorf("daily: follow alarms of %s: %w", stream, err)
	}
	return cc, nil
}
