package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
)

// ReportSchema is the schema of a report revision.
const ReportSchema = "roomwatch.incident-report/v1"

// Errors of the report API.
var (
	// ErrSigned: the report has a signed revision; use Correct.
	ErrSigned = errors.New("report already signed: a change is a correction")
	// ErrNotSigned: Correct on a report never signed; use Complete.
	ErrNotSigned = errors.New("report not signed yet")
	// ErrStale: the revision given is not the latest one.
	ErrStale = errors.New("not the latest revision")
)

// Fields are what a person writes into a report.
type Fields struct {
	Cause    string `json:"cause"`    // 原因
	Impact   string `json:"impact"`   // 影响
	Measures string `json:"measures"` // 处置措施
}

// Revision is one stored version of an incident's report, under
// rep.<site>.<id>.<n>. Revisions are never changed: completing stores a
// new one, signing stores the latest content again with the signature,
// and a correction of a signed report is a new revision that names the
// one it corrects; the old ones stay readable.
type Revision struct {
	Schema     string    `json:"schema"`
	Site       string    `json:"site"`
	IncidentID string    `json:"incident_id"`
	N          int       `json:"n"` // 1, 2, …
	Draft      Draft     `json:"draft"`
	Fields     Fields    `json:"fields"`
	EditedBy   string    `json:"edited_by"`
	EditedAt   time.Time `json:"edited_at"`
	// Corrects is the signed revision this one corrects, and Reason why.
	Corrects int    `json:"corrects,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Signed is set on a signed revision.
	Signed *Signature `json:"signed,omitempty"`
}

func revKey(site, id string, n int) string {
	return fmt.Sprintf("rep.%s.%s.%06d", alerts.KeyToken(site), id, n)
}

// Revisions returns the report revisions of incident id, oldest first.
func (s *Store) Revisions(ctx context.Context, site, id string) ([]*Revision, error) {
	keys, err := s.keys(ctx, "rep."+alerts.KeyToken(site)+"."+id+".*")
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []*Revision
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("report %s: get: %w", k, err)
		}
		var r Revision
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("report %s: decode: %w", k, err)
		}
		out = append(out, &r)
	}
	return out, nil
}

// Latest returns the latest report revision of incident id, or nil when
// there is none yet (the screen then shows a fresh Draft).
func (s *Store) Latest(ctx context.Context, site, id string) (*Revision, error) {
	revs, err := s.Revisions(ctx, site, id)
	if err != nil || len(revs) == 0 {
		return nil, err
	}
	return revs[len(revs)-1], nil
}

// Complete stores a new unsigned revision of incident id's report with
// fields, drafted afresh from the record (draft), written by by at at.
// base is the revision the person edited (0 for none): when another
// revision was stored since, ErrStale is returned and nothing is stored.
// A signed report is not completed: ErrSigned (use Correct).
func (s *Store) Complete(ctx context.Context, draft *Draft, base int, f Fields, by string, at time.Time) (*Revision, error) {
	return s.add(ctx, draft, base, func(last *Revision) (*Revision, error) {
		if last != nil && last.Signed != nil {
			return nil, ErrSigned
		}
		return &Revision{Fields: f, EditedBy: by, EditedAt: at}, nil
	})
}

// Correct stores a correction of a signed report: a new unsigned
// revision with fields and the reason, naming the signed revision it
// corrects. It is signed in turn with Sign.
func (s *Store) Correct(ctx context.Context, draft *Draft, base int, f Fields, reason, by string, at time.Time) (*Revision, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, errors.New("correction: give a reason")
	}
	return s.add(ctx, draft, base, func(last *Revision) (*Revision, error) {
		signed := lastSigned(last)
		if signed == 0 {
			return nil, ErrNotSigned
		}
		return &Revision{Fields: f, EditedBy: by, EditedAt: at, Corrects: signed, Reason: reason}, nil
	})
}

// lastSigned is the signed revision last is or corrects, 0 if none.
func lastSigned(last *Revision) int {
	switch {
	case last == nil:
		return 0
	case last.Signed != nil:
		return last.N
	}
	return last.Corrects
}

// Sign signs revision n, which must be the latest and unsigned, by
// storing it again as revision n+1 with sig, and records the signature
// on the incident, which stops its clocks (the tracker resolves the
// reminder and overdue alarms on its next tick). The signed revision is
// never changed again.
func (s *Store) Sign(ctx context.Context, site, id string, n int, sig Signature) (*Revision, error) {
	if strings.TrimSpace(sig.By) == "" {
		return nil, errors.New("sign: empty name")
	}
	revs, err := s.Revisions(ctx, site, id)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 || revs[len(revs)-1].N != n {
		return nil, fmt.Errorf("report %s revision %d: %w", id, n, ErrStale)
	}
	last := revs[len(revs)-1]
	if last.Signed != nil {
		return nil, fmt.Errorf("report %s revision %d: %w", id, n, ErrSigned)
	}
	r := *last
	r.N = n + 1
	sig.Revision = r.N
	r.Signed = &sig
	if err := s.putRevision(ctx, &r); err != nil {
		return nil, err
	}
	_, err = s.update(ctx, Key(site, id), func(in *Incident) (bool, error) {
		in.Signed = &sig
		in.UpdatedAt = sig.At
		return true, nil
	})
	return &r, err
}

func (s *Store) add(ctx context.Context, draft *Draft, base int, f func(last *Revision) (*Revision, error)) (*Revision, error) {
	site, id := draft.Incident.Site, draft.Incident.ID
	last, err := s.Latest(ctx, site, id)
	if err != nil {
		return nil, err
	}
	n := 0
	if last != nil {
		n = last.N
	}
	if base != n {
		return nil, fmt.Errorf("report %s revision %d: %w (latest %d)", id, base, ErrStale, n)
	}
	r, err := f(last)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", id, err)
	}
	r.Site, r.IncidentID, r.N, r.Draft = site, id, n+1, *draft
	return r, s.putRevision(ctx, r)
}

// putRevision creates the revision's key; a revision stored meanwhile
// under the same number makes it ErrStale.
func (s *Store) putRevision(ctx context.Context, r *Revision) error {
	r.Schema = ReportSchema
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	key := revKey(r.Site, r.IncidentID, r.N)
	if _, err := s.kv.Create(ctx, key, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("report %s revision %s: %w", r.IncidentID, strconv.Itoa(r.N-1), ErrStale)
		}
		return fmt.Errorf("report %s: create: %w", key, err)
	}
	return nil
}
