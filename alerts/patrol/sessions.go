package patrol

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Session is one login, kept in the sessions bucket under the SHA-256 of
// its cookie (a reader of the bucket cannot take over a session), so
// logins survive a restart of the screen. The bucket's TTL ends it.
type Session struct {
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	From    string    `json:"from,omitempty"`
}

type sessions struct {
	kv  jetstream.KeyValue
	ttl time.Duration
}

func openSessions(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration, replicas int) (*sessions, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "roomwatch patrol logins", TTL: ttl,
		Storage: jetstream.FileStorage, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("session bucket %s: %w", bucket, err)
	}
	return &sessions{kv: kv, ttl: ttl}, nil
}

func sessionKey(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// create stores a new session and returns its cookie value.
func (s *sessions) create(ctx context.Context, sess Session) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	data, _ := json.Marshal(sess)
	if _, err := s.kv.Create(ctx, sessionKey(token), data); err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	return token, nil
}

// get returns the session of a cookie value, nil if none or expired.
func (s *sessions) get(ctx context.Context, token string, now time.Time) (*Session, error) {
	if len(token) != 43 {
		return nil, nil
	}
	e, err := s.kv.Get(ctx, sessionKey(token))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(e.Value(), &sess); err != nil {
		return nil, nil
	}
	if now.Sub(sess.Created) > s.ttl {
		return nil, nil
	}
	return &sess, nil
}

func (s *sessions) delete(ctx context.Context, token string) error {
	return s.kv.Delete(ctx, sessionKey(token))
}
