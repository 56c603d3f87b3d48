package patrol

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// Schemas of the values in the patrol bucket.
const (
	SignoffSchema = "roomwatch.patrol.signoff/v1"
	ManualSchema  = "roomwatch.patrol.manual/v1"
)

// Results of a manual item.
const (
	ResultOK       = "ok"
	ResultAbnormal = "abnormal"
)

// Errors of the store, shown to the person as plain pages.
var (
	ErrSigned     = errors.New("the record is signed: correct it as a new revision")
	ErrNotSigned  = errors.New("the record is not signed yet")
	ErrNoPresence = errors.New("no recent scan of this room's code")
	ErrUnticked   = errors.New("manual items not checked")
)

// Tick is a person's check of one manual item.
type Tick struct {
	Result string    `json:"result"` // ok | abnormal
	Remark string    `json:"remark,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Manual is the draft of a day's manual items before it is signed.
type Manual struct {
	Schema string          `json:"schema"`
	Items  map[string]Tick `json:"items"`
}

// Signoff is one signed revision of a room's day record. It is written
// once (a key-value create) and never changed; a correction is a new
// revision that names the one it supersedes.
type Signoff struct {
	Schema string `json:"schema"`
	Site   string `json:"site"`
	Room   string `json:"room"`
	Date   string `json:"date"`
	Rev    int    `json:"rev"`
	// By is the user name, ByName the name shown; Role the user's role.
	By     string    `json:"by"`
	ByName string    `json:"by_name"`
	Role   string    `json:"role"`
	At     time.Time `json:"at"`
	// From and UserAgent say from where it was signed; PresenceAt is when
	// the signer scanned the room's code (zero for a correction made
	// away from the room).
	From       string     `json:"from"`
	UserAgent  string     `json:"user_agent,omitempty"`
	PresenceAt *time.Time `json:"presence_at,omitempty"`
	Remarks    string     `json:"remarks,omitempty"`
	// Manual are the manual items as signed; Verdicts the automatic
	// items' verdicts (item id → ok | abnormal | nodata) as shown.
	Manual   map[string]Tick   `json:"manual"`
	Verdicts map[string]string `json:"verdicts"`
	// RecordDigest is the SHA-256 of the daily record as it was read for
	// signing; RecordUpdatedAt its last sample.
	RecordDigest    string    `json:"record_digest"`
	RecordUpdatedAt time.Time `json:"record_updated_at,omitzero"`
	// Reason and Supersedes are set on a correction.
	Reason     string `json:"reason,omitempty"`
	Supersedes int    `json:"supersedes,omitempty"`
}

// Presence is a scan of a room's code by a user.
type Presence struct {
	At   time.Time `json:"at"`
	From string    `json:"from,omitempty"`
}

// Store keeps manual ticks, signatures and presence marks in the patrol
// key-value bucket:
//
//	manual.<site>.<room>.<yyyy-mm-dd>          Manual (draft, until signed)
//	sign.<site>.<room>.<yyyy-mm-dd>.<rev:0000> Signoff (created once)
//	presence.<user>.<site>.<room>              Presence
//
// Tokens are escaped with alerts.KeyToken.
type Store struct {
	kv jetstream.KeyValue
}

// BucketConfig is the patrol bucket: file storage, no expiry.
func BucketConfig(name string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: name, Description: "roomwatch patrol: manual items, signatures, presence",
		History: 5, Storage: jetstream.FileStorage, Replicas: replicas,
	}
}

// OpenStore creates or updates the bucket.
func OpenStore(ctx context.Context, js jetstream.JetStream, name string, replicas int) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, BucketConfig(name, replicas))
	if err != nil {
		return nil, fmt.Errorf("patrol bucket %s: %w", name, err)
	}
	return &Store{kv: kv}, nil
}

func key(parts ...string) string {
	for i := range parts {
		parts[i] = alerts.KeyToken(parts[i])
	}
	return strings.Join(parts, ".")
}

// Manual returns the draft manual items of a day (empty if none).
func (s *Store) Manual(ctx context.Context, site, room, date string) (Manual, uint64, error) {
	m := Manual{Schema: ManualSchema, Items: map[string]Tick{}}
	e, err := s.kv.Get(ctx, key("manual", site, room, date))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return m, 0, nil
	}
	if err != nil {
		return m, 0, fmt.Errorf("patrol manual %s/%s/%s: %w", site, room, date, err)
	}
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return m, 0, fmt.Errorf("patrol manual %s/%s/%s: %w", site, room, date, err)
	}
	if m.Items == nil {
		m.Items = map[string]Tick{}
	}
	return m, e.Revision(), nil
}

// SetTicks records ticks of a day's manual items; refused once the day
// is signed.
func (s *Store) SetTicks(ctx context.Context, site, room, date string, ticks map[string]Tick) error {
	for range 5 {
		if revs, err := s.Signoffs(ctx, site, room, date); err != nil {
			return err
		} else if len(revs) > 0 {
			return ErrSigned
		}
		m, rev, err := s.Manual(ctx, site, room, date)
		if err != nil {
			return err
		}
		for id, t := range ticks {
			m.Items[id] = t
		}
		data, _ := json.Marshal(m)
		k := key("manual", site, room, date)
		if rev == 0 {
			_, err = s.kv.Create(ctx, k, data)
		} else {
			_, err = s.kv.Update(ctx, k, data, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("patrol manual %s: %w", k, err)
		}
	}
	return fmt.Errorf("patrol manual %s/%s/%s: too many concurrent updates", site, room, date)
}

// Signoffs returns every revision of a day's signature, oldest first.
func (s *Store) Signoffs(ctx context.Context, site, room, date string) ([]Signoff, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, key("sign", site, room, date)+".*")
	if err != nil {
		return nil, fmt.Errorf("patrol signatures %s/%s/%s: %w", site, room, date, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []Signoff
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("patrol signature %s: %w", k, err)
		}
		var so Signoff
		if err := json.Unmarshal(e.Value(), &so); err != nil {
			return nil, fmt.Errorf("patrol signature %s: %w", k, err)
		}
		out = append(out, so)
	}
	slices.SortFunc(out, func(a, b Signoff) int { return cmp.Compare(a.Rev, b.Rev) })
	return out, nil
}

// Sign stores so as the next revision of its day: revision 1 when the day
// is unsigned (so.Supersedes must be 0), else the one after the latest
// (so.Supersedes must name it). It fails with ErrSigned when someone else
// signed first.
func (s *Store) Sign(ctx context.Context, so *Signoff) error {
	revs, err := s.Signoffs(ctx, so.Site, so.Room, so.Date)
	if err != nil {
		return err
	}
	latest := 0
	if len(revs) > 0 {
		latest = revs[len(revs)-1].Rev
	}
	if so.Supersedes != latest {
		if latest == 0 {
			return ErrNotSigned
		}
		return ErrSigned
	}
	so.Schema, so.Rev = SignoffSchema, latest+1
	data, err := json.Marshal(so)
	if err != nil {
		return err
	}
	k := key("sign", so.Site, so.Room, so.Date, fmt.Sprintf("%04d", so.Rev))
	if _, err := s.kv.Create(ctx, k, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return ErrSigned
		}
		return fmt.Errorf("patrol signature %s: %w", k, err)
	}
	return nil
}

// SetPresence records that user scanned room's code.
func (s *Store) SetPresence(ctx context.Context, user, site, room string, p Presence) error {
	data, _ := json.Marshal(p)
	if _, err := s.kv.Put(ctx, key("presence", user, site, room), data); err != nil {
		return fmt.Errorf("patrol presence: %w", err)
	}
	return nil
}

// Presence returns user's last scan of room's code, nil if none.
func (s *Store) Presence(ctx context.Context, user, site, room string) (*Presence, error) {
	e, err := s.kv.Get(ctx, key("presence", user, site, room))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("patrol presence: %w", err)
	}
	var p Presence
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, fmt.Errorf("patrol presence: %w", err)
	}
	return &p, nil
}

// Signed reports whether site's room is signed for the local day that
// starts at day (unsigned.SignedFunc).
func (s *Store) Signed(ctx context.Context, site, room string, day time.Time) (bool, error) {
	revs, err := s.Signoffs(ctx, site, room, day.Format(time.DateOnly))
	return len(revs) > 0, err
}
