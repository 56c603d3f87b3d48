package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The state bucket holds the latest message of every alarm, keyed by
// <site>.<fingerprint>. A firing alarm is put when it fires and put again,
// as resolved, when it resolves; resolved entries stay (the number of keys
// is bounded by rules × devices, and `roomwatch alarms --all` shows the
// last occurrence of each). On start the monitor reads the bucket back
// (LoadState) and restores the rules engine from the active entries, so a
// restart neither announces a firing alarm again nor forgets to resolve
// it: the engine knows it fires and emits the resolution when the
// condition is found clear.

// casAttempts bounds the read-modify-write retries of a state update.
const casAttempts = 5

// StoreState writes a to the state bucket. An acknowledgement already
// stored for the same occurrence is kept, so a resolution written by the
// monitor does not erase who acknowledged (a consumer may acknowledge
// between the firing and the resolution). It returns the stored alarm.
func StoreState(ctx context.Context, kv jetstream.KeyValue, a *Alarm) (*Alarm, error) {
	return updateState(ctx, kv, a.Key(), func(old *Alarm) (*Alarm, error) {
		n := a.Clone()
		if old != nil && old.ID == n.ID && old.AckAt != nil && n.AckAt == nil {
			n.AckBy, n.AckAt, n.AckNote, n.AckVia = old.AckBy, old.AckAt, old.AckNote, old.AckVia
			if n.State == Firing {
				n.State = Acknowledged
			}
		}
		if old != nil && old.ID == n.ID && old.State == Resolved && n.State != Resolved && old.AckAt == nil && n.AckAt != nil {
			// The acknowledgement of an occurrence that resolved meanwhile:
			// it stays resolved, with who acknowledged it.
			r := old.Clone()
			r.AckBy, r.AckAt, r.AckNote, r.AckVia = n.AckBy, n.AckAt, n.AckNote, n.AckVia
			return r, nil
		}
		if old != nil && (old.StartedAt.After(n.StartedAt) || (old.ID == n.ID && old.State == Resolved && n.State != Resolved)) {
			// A late message of an older occurrence, or a firing message
			// re-published after its resolution: keep what is stored.
			return nil, nil
		}
		return n, nil
	})
}

// Acknowledge records in the state bucket that by acknowledged the alarm
// stored under key (see StateKey) at at, and returns the updated alarm,
// which the caller publishes (Publisher.Publish) for the audit trail. It
// returns an error wrapping ErrAcknowledged when it already was.
func Acknowledge(ctx context.Context, kv jetstream.KeyValue, key, by, note string, at time.Time) (*Alarm, error) {
	return updateState(ctx, kv, key, func(old *Alarm) (*Alarm, error) {
		if old == nil {
			return nil, fmt.Errorf("alarm %s: %w", key, jetstream.ErrKeyNotFound)
		}
		n := old.Clone()
		if err := n.Acknowledge(by, note, at); err != nil {
			return nil, err
		}
		return n, nil
	})
}

// updateState applies f to the stored alarm under key (nil if none) and
// writes the result with a revision check, retrying on a concurrent write.
// f returning nil, nil leaves the entry as it is.
func updateState(ctx context.Context, kv jetstream.KeyValue, key string, f func(old *Alarm) (*Alarm, error)) (*Alarm, error) {
	for range casAttempts {
		var old *Alarm
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return nil, fmt.Errorf("alarm state %s: get: %w", key, err)
		default:
			rev = e.Revision()
			if old, err = Unmarshal(e.Value()); err != nil {
				old = nil // a damaged entry is overwritten
			}
		}
		n, err := f(old)
		if err != nil {
			return nil, err
		}
		if n == nil {
			return old, nil
		}
		data, err := n.Marshal()
		if err != nil {
			return nil, fmt.Errorf("alarm state %s: %w", key, err)
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, data)
		} else {
			_, err = kv.Update(ctx, key, data, rev)
		}
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return nil, fmt.Errorf("alarm state %s: put: %w", key, err)
		}
	}
	return nil, fmt.Errorf("alarm state %s: put: %d concurrent updates in a row", key, casAttempts)
}

// LoadState reads every alarm in the state bucket: the monitor restores
// the rules engine from the active ones at start (see ToAlert). Damaged
// entries are skipped and reported in the error together with the alarms
// that could be read.
func LoadState(ctx context.Context, kv jetstream.KeyValue) ([]*Alarm, error) {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("alarm state %s: watch: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	var out []*Alarm
	var errs []error
	for {
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("alarm state %s: read: %w", kv.Bucket(), ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return out, fmt.Errorf("alarm state %s: read: watcher closed", kv.Bucket())
			}
			if e == nil { // all current values delivered
				return out, errors.Join(errs...)
			}
			a, err := Unmarshal(e.Value())
			if err != nil {
				errs = append(errs, fmt.Errorf("alarm state %s: key %s: %w", kv.Bucket(), e.Key(), err))
				continue
			}
			out = append(out, a)
		}
	}
}

// List returns the alarms in the state bucket for `roomwatch alarms`:
// active ones first, then by severity, then newest first.
func List(ctx context.Context, kv jetstream.KeyValue) ([]*Alarm, error) {
	all, err := LoadState(ctx, kv)
	Sort(all)
	return all, err
}

// Sort orders alarms as List does.
func Sort(alarms []*Alarm) {
	slices.SortStableFunc(alarms, func(a, b *Alarm) int {
		if a.Active() != b.Active() {
			if a.Active() {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key(), b.Key())
	})
}

// ActiveOnly returns the firing and acknowledged alarms of alarms.
func ActiveOnly(alarms []*Alarm) []*Alarm {
	var out []*Alarm
	for _, a := range alarms {
		if a.Active() {
			out = append(out, a)
		}
	}
	return out
}
