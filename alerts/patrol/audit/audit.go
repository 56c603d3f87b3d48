// Package audit is the patrol screen's append-only audit trail: every
// login, sign-off, revision, acknowledgement and presence scan becomes one
// entry on roomwatch.audit.<site>.<action> in the JetStream stream
// ROOMWATCH_AUDIT (file storage, deletes and purges denied, kept for
// ever). Entries are hash-chained: each carries its index and the hash of
// the one before, so Verify finds an entry that was removed (the stream
// deleted and rebuilt without it, a restored backup) or altered.
//
// # Entry (schema roomwatch.audit/v1)
//
//	{"schema": "roomwatch.audit/v1", "n": 12, "at": "…", "actor": "zhangsan",
//	 "role": "operator", "from": "10.0.0.7", "action": "sign",
//	 "site": "main", "room": "room1", "object": "2026-11-25#1",
//	 "detail": {"rev": "1"}, "prev": "<hex sha-256 of entry 11>",
//	 "hash": "<hex sha-256 of this entry with hash empty>"}
//
// The hash is SHA-256 over the entry's JSON encoding with "hash" empty,
// fields in the order above (Go's encoding of Entry). The first entry has
// n 1 and prev "".
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// Stream layout.
const (
	Schema        = "roomwatch.audit/v1"
	Stream        = "ROOMWATCH_AUDIT"
	SubjectPrefix = "roomwatch.audit"
)

// Actions recorded.
const (
	Login       = "login"
	LoginFailed = "login-failed"
	Logout      = "logout"
	Scan        = "scan"
	Tick        = "tick"
	Sign        = "sign"
	Revise      = "revise"
	Ack         = "ack"
	Incident    = "incident"
)

// Entry is one audit record.
type Entry struct {
	Schema string            `json:"schema"`
	N      uint64            `json:"n"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Role   string            `json:"role,omitempty"`
	From   string            `json:"from,omitempty"`
	Action string            `json:"action"`
	Site   string            `json:"site,omitempty"`
	Room   string            `json:"room,omitempty"`
	Object string            `json:"object,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
	Prev   string            `json:"prev"`
	Hash   string            `json:"hash"`
}

// Sum returns the hash e should carry: SHA-256 of e encoded with Hash
// empty.
func (e Entry) Sum() string {
	e.Hash = ""
	data, err := json.Marshal(e)
	if err != nil {
		panic(err) // an Entry always encodes
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// StreamConfig is the audit stream: file storage, kept for ever, deletes
// and purges denied.
func StreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        Stream,
		Description: "roomwatch patrol audit trail (hash-chained)",
		Subjects:    []string{SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		MaxMsgs:     -1,
		MaxBytes:    -1,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// Log appends entries to the chain. It is safe for concurrent use, and
// several processes may append to one stream: each append expects the
// stream's last sequence and retries after another writer's entry.
type Log struct {
	js jetstream.JetStream

	mu      sync.Mutex
	lastSeq uint64
	last    Entry
	loaded  bool
}

// Open creates or updates the audit stream and returns a Log on it.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Log, error) {
	if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(replicas)); err != nil {
		return nil, fmt.Errorf("audit stream %s: %w", Stream, err)
	}
	return &Log{js: js}, nil
}

// Subject is the subject of an entry of site with action.
func Subject(site, action string) string {
	return SubjectPrefix + "." + alerts.Token(site) + "." + alerts.Token(action)
}

// loadLast reads the stream's last entry. Callers hold l.mu.
func (l *Log) loadLast(ctx context.Context) error {
	s, err := l.js.Stream(ctx, Stream)
	if err != nil {
		return fmt.Errorf("audit stream %s: %w", Stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("audit stream %s: info: %w", Stream, err)
	}
	l.lastSeq, l.last = info.State.LastSeq, Entry{}
	if info.State.Msgs > 0 {
		m, err := s.GetMsg(ctx, info.State.LastSeq)
		if err != nil {
			return fmt.Errorf("audit stream %s: get %d: %w", Stream, info.State.LastSeq, err)
		}
		if err := json.Unmarshal(m.Data, &l.last); err != nil {
			return fmt.Errorf("audit stream %s: entry at seq %d: %w", Stream, m.Sequence, err)
		}
	}
	l.loaded = true
	return nil
}

// Append chains e after the last entry and stores it; it returns the
// stored entry once JetStream acknowledged it.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	e.Schema = Schema
	for attempt := range appendAttempts {
		if attempt > 0 {
			// Another writer won the race: wait a random moment, growing
			// with the attempts, so two busy screens do not keep colliding.
			t := time.NewTimer(time.Duration(rand.Int64N(int64(attempt)*int64(2*time.Millisecond)) + 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return Entry{}, fmt.Errorf("audit: append %s: %w", e.Action, ctx.Err())
			case <-t.C:
			}
		}
		if !l.loaded {
			if err := l.loadLast(ctx); err != nil {
				return Entry{}, err
			}
		}
		e.N, e.Prev = l.last.N+1, l.last.Hash
		e.Hash = e.Sum()
		data, err := json.Marshal(e)
		if err != nil {
			return Entry{}, err
		}
		msg := nats.NewMsg(Subject(e.Site, e.Action))
		msg.Data = data
		pa, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequence(l.lastSeq))
		if err != nil {
			var apiErr *jetstream.APIError
			if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
				l.loaded = false // another writer appended: chain after it
				continue
			}
			l.loaded = false
			return Entry{}, fmt.Errorf("audit: append %s: %w", e.Action, err)
		}
		l.lastSeq, l.last = pa.Sequence, e
		return e, nil
	}
	return Entry{}, fmt.Errorf("audit: append %s: the stream kept moving under %d attempts", e.Action, appendAttempts)
}

// appendAttempts bounds how often Append chains again after another
// writer appended first.
const appendAttempts = 50
