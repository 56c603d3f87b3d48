package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// JetStream names the notifier owns.
const (
	SentBucket        = "roomwatch_notify_sent"
	PendingBucket     = "roomwatch_notify_pending"
	DeadLetterStream  = "ROOMWATCH_NOTIFY"
	DeadLetterPrefix  = "roomwatch.notify.deadletter"
	HeartbeatSubjects = alerts.HeartbeatSubjectPrefix + ".>"
)

// DeadLetterSubject is where sends of site that kept failing go.
func DeadLetterSubject(site string) string { return DeadLetterPrefix + "." + alerts.Token(site) }

// DeliveryStreamConfig is the stream of delivery records: kept as long as
// alarms (who was told is part of the record), no deletes; bounded by age
// like the acknowledgements, so it reserves no space up front.
func DeliveryStreamConfig(c alerts.Config) jetstream.StreamConfig {
	return c.RecordStreamConfig(alerts.DeliveryStream, "roomwatch notification attempts", alerts.DeliverySubjectPrefix+".>")
}

// EnsureStreams creates, or updates, the notifier's streams and buckets:
// ROOMWATCH_DELIVERIES, the dead letters, the sent and pending buckets;
// and tries the acknowledgement stream when nobody made it yet.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, c alerts.Config) error {
	c.Defaults()
	if _, err := js.CreateOrUpdateStream(ctx, DeliveryStreamConfig(c)); err != nil {
		return fmt.Errorf("delivery stream %s: %w", alerts.DeliveryStream, err)
	}
	dl := jetstream.StreamConfig{
		Name: DeadLetterStream, Description: "roomwatch notifications given up after every retry",
		Subjects: []string{DeadLetterPrefix + ".>"}, MaxAge: c.MaxAge, Storage: jetstream.FileStorage,
		Replicas: c.Replicas, MaxMsgs: -1,
	}
	if _, err := js.CreateOrUpdateStream(ctx, dl); err != nil {
		return fmt.Errorf("dead letter stream %s: %w", DeadLetterStream, err)
	}
	// Best effort: where the notifier may not create it (its role's
	// permissions), the monitor does, and the acknowledgement consumer
	// waits for it.
	_ = c.EnsureAckStream(ctx, js)
	for _, kv := range []jetstream.KeyValueConfig{
		{Bucket: SentBucket, Description: "roomwatch notifications claimed and sent, by <alarm>.<step>.<person>.<channel>",
			TTL: 30 * 24 * time.Hour, Storage: jetstream.FileStorage, Replicas: c.Replicas},
		{Bucket: PendingBucket, Description: "roomwatch alarms waiting for acknowledgement (escalations) and their codes",
			Storage: jetstream.FileStorage, Replicas: c.Replicas},
	} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, kv); err != nil {
			return fmt.Errorf("bucket %s: %w", kv.Bucket, err)
		}
	}
	return nil
}

// Claim states in the sent bucket.
const (
	claimClaimed = "claimed"
	claimSent    = alerts.DeliverySent
	claimUnknown = alerts.DeliveryUnknown
	claimDead    = alerts.DeliveryDead
)

// claim is the value of a key in the sent bucket.
type claim struct {
	State        string    `json:"state"`
	Owner        string    `json:"owner"`
	At           time.Time `json:"at"`
	Notification string    `json:"notification,omitempty"`
}

// sentStore is the idempotency record: a send is claimed with Create
// before it is made, so of two instances one loses the race.
type sentStore struct {
	kv    jetstream.KeyValue
	owner string
	lease time.Duration
}

// claim reports whether this instance may send key: it created the key,
// or holds it already (a retry), or took over a claim whose owner went
// silent for longer than the lease. It returns the key's revision, or,
// when another instance holds a fresh claim, until when to wait (busy);
// a key already sent, unknown or dead is neither ok nor busy.
func (s *sentStore) claim(ctx context.Context, key string, now time.Time) (rev uint64, ok bool, busy time.Time, err error) {
	v := marshal(claim{State: claimClaimed, Owner: s.owner, At: now})
	rev, err = s.kv.Create(ctx, key, v)
	if err == nil {
		return rev, true, time.Time{}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, false, time.Time{}, err
	}
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return 0, false, time.Time{}, err
	}
	var c claim
	if err := unmarshal(e.Value(), &c); err != nil || c.State != claimClaimed {
		return 0, false, time.Time{}, err
	}
	if c.Owner != s.owner && now.Sub(c.At) < s.lease {
		return 0, false, c.At.Add(s.lease), nil
	}
	rev, err = s.kv.Update(ctx, key, v, e.Revision())
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, false, now.Add(s.lease), nil // another instance took it over first
	}
	return rev, err == nil, time.Time{}, err
}

// mark records the outcome of a claimed send.
func (s *sentStore) mark(ctx context.Context, key string, rev uint64, state, nid string, now time.Time) error {
	_, err := s.kv.Update(ctx, key, marshal(claim{State: state, Owner: s.owner, At: now, Notification: nid}), rev)
	return err
}

// pending is an alarm told and not yet acknowledged or resolved: its
// escalation state, kept in the pending bucket under <site>.<alarm id>.
type pending struct {
	AlarmID     string          `json:"alarm_id"`
	Fingerprint string          `json:"fingerprint"`
	Site        string          `json:"site"`
	Room        string          `json:"room"`
	Severity    alerts.Severity `json:"severity"`
	Rule        string          `json:"rule"`
	Text        string          `json:"text"`
	Started     time.Time       `json:"started"`
	Route       string          `json:"route"`
	Code        string          `json:"code"`
	Level       int             `json:"level"`
	Repeats     int             `json:"repeats"`
	LastAt      time.Time       `json:"last_at"`
	Told        []string        `json:"told"` // "p:<person>" or "g:<group>"
	Acked       bool            `json:"acked,omitempty"`
	AckBy       string          `json:"ack_by,omitempty"`
	Resolved    bool            `json:"resolved,omitempty"`
	Exclude     string          `json:"exclude,omitempty"`
}

// pendingKey is the key of an alarm occurrence in the pending bucket.
func pendingKey(site, alarmID string) string {
	return alerts.KeyToken(site) + "." + alerts.KeyToken(alarmID)
}

// codeKey is the key reserving a short acknowledgement code.
func codeKey(code string) string { return "code." + code }
