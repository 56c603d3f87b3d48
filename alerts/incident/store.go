package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
)

// casAttempts bounds the read-modify-write retries of an update.
const casAttempts = 5

// ErrNotFound is returned for an unknown incident or revision.
var ErrNotFound = errors.New("not found")

// BucketConfig is the configuration of the incident bucket: one key per
// incident (inc.<site>.<id>) and one per report revision
// (rep.<site>.<id>.<n>), kept for ever (audit records).
func (c *Config) BucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      c.Bucket,
		Description: "roomwatch incidents (inc.<site>.<id>) and report revisions (rep.<site>.<id>.<n>)",
		History:     5,
		Storage:     jetstream.FileStorage,
	}
}

// EnsureBucket creates the incident bucket, or updates it to cfg.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, cfg *Config) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg.BucketConfig())
	if err != nil {
		return nil, fmt.Errorf("incident bucket %s: create or update: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Store reads and writes incidents and report revisions. The Tracker
// writes incidents; the screen reads them and completes, signs and
// corrects reports through it. It is safe for concurrent use, also from
// several processes (every write is a revision-checked update or a
// create).
type Store struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	daily jetstream.KeyValue // may be nil
	cfg   *Config
}

// NewStore returns a Store on the incident bucket kv. js reads the alarm,
// delivery and acknowledgement streams for drafts; daily, if not nil, is
// the daily record bucket (roomwatch_daily) whose facts a draft quotes.
// cfg must have been defaulted (Defaults).
func NewStore(js jetstream.JetStream, kv, daily jetstream.KeyValue, cfg *Config) *Store {
	return &Store{js: js, kv: kv, daily: daily, cfg: cfg}
}

// Get returns incident id of site.
func (s *Store) Get(ctx context.Context, site, id string) (*Incident, error) {
	in, _, err := s.get(ctx, Key(site, id))
	return in, err
}

func (s *Store) get(ctx context.Context, key string) (*Incident, uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("incident %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("incident %s: get: %w", key, err)
	}
	in, err := unmarshalIncident(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("incident %s: %w", key, err)
	}
	return in, e.Revision(), nil
}

// List returns the incidents of site (every site when site is empty),
// newest first.
func (s *Store) List(ctx context.Context, site string) ([]*Incident, error) {
	filter := "inc.>"
	if site != "" {
		filter = "inc." + alerts.KeyToken(site) + ".>"
	}
	keys, err := s.keys(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []*Incident
	var errs []error
	for _, k := range keys {
		in, _, err := s.get(ctx, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b *Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
	return out, errors.Join(errs...)
}

func (s *Store) keys(ctx context.Context, filter string) ([]string, error) {
	kl, err := s.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("incident bucket %s: list %s: %w", s.cfg.Bucket, filter, err)
	}
	defer func() { _ = kl.Stop() }()
	var keys []string
	for k := range kl.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

// create stores a new incident; when one with its key exists already
// (a redelivered alarm, a restart) it returns the stored one and false.
func (s *Store) create(ctx context.Context, in *Incident) (*Incident, bool, error) {
	data, err := in.marshal()
	if err != nil {
		return nil, false, err
	}
	_, err = s.kv.Create(ctx, in.Key(), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		old, _, err := s.get(ctx, in.Key())
		return old, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("incident %s: create: %w", in.Key(), err)
	}
	return in, true, nil
}

// update applies f to the stored incident under key with a revision
// check, retrying on a concurrent write; f returning false writes nothing.
func (s *Store) update(ctx context.Context, key string, f func(in *Incident) (bool, error)) (*Incident, error) {
	for range casAttempts {
		in, rev, err := s.get(ctx, key)
		if err != nil {
			return nil, err
		}
		changed, err := f(in)
		if err != nil || !changed {
			return in, err
		}
		data, err := in.marshal()
		if err != nil {
			return nil, err
		}
		_, err = s.kv.Update(ctx, key, data, rev)
		if err == nil {
			return in, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return nil, fmt.Errorf("incident %s: update: %w", key, err)
		}
	}
	return nil, fmt.Errorf("incident %s: update: %d concurrent writes in a row", key, casAttempts)
}
