package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Acknowledgements (schema roomwatch.ack/v1).
//
// Whoever acknowledges an alarm — a person on the patrol screen, an SMS
// reply to the notifier's modem, `roomwatch ack` — publishes an Ack on
// roomwatch.ack.<site>.<room> in the stream ROOMWATCH_ACKS. Consumers only
// publish the Ack; the monitor, the single writer of alarm state, applies
// it (state bucket, an acknowledged alarm message, the daily record), and
// the notifier stops escalating. The message id "ack-<alarm id>" makes a
// second acknowledgement of one occurrence a duplicate.
const (
	AckSchema        = "roomwatch.ack/v1"
	AckSubjectPrefix = "roomwatch.ack"
	AckStream        = "ROOMWATCH_ACKS"
)

// Ways an acknowledgement arrives (Ack.Via).
const (
	AckViaCLI    = "cli"
	AckViaSMS    = "sms"
	AckViaPatrol = "patrol"
	AckViaWeCom  = "wecom"
)

// Ack is one acknowledgement of one alarm occurrence.
type Ack struct {
	Schema      string    `json:"schema"`
	AlarmID     string    `json:"alarm_id"`    // the occurrence (Alarm.ID)
	Fingerprint string    `json:"fingerprint"` // Alarm.Fingerprint
	Site        string    `json:"site"`
	Room        string    `json:"room"`
	By          string    `json:"by"`             // the person's name or user name
	Via         string    `json:"via"`            // cli | sms | patrol | wecom
	From        string    `json:"from,omitempty"` // phone number, client address
	Comment     string    `json:"comment,omitempty"`
	At          time.Time `json:"at"`
}

// AckSubject is the subject of acknowledgements of alarms of site's room.
func AckSubject(site, room string) string {
	return AckSubjectPrefix + "." + Token(site) + "." + Token(room)
}

// AckStreamConfig is the acknowledgement stream: kept as long as alarms
// (audit records), no deletes, a duplicate window as the alarms'.
func (c Config) AckStreamConfig() jetstream.StreamConfig {
	s := c.RecordStreamConfig(AckStream, "roomwatch acknowledgements of alarms", AckSubjectPrefix+".>")
	s.Duplicates = c.Duplicates
	return s
}

// EnsureAckStream creates the acknowledgement stream when it is missing,
// as a client that may lack the permission does at its start (the
// notifier, the patrol screen; the monitor makes it otherwise). A refused
// request is not answered: the attempt waits 2 s at most. It returns the
// error of the lookup or of the attempt; nil when the stream is there.
func (c Config) EnsureAckStream(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.Stream(ctx, AckStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		if err != nil {
			return fmt.Errorf("ack stream %s: %w", AckStream, err)
		}
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := js.CreateStream(cctx, c.AckStreamConfig()); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("ack stream %s missing, not created: %w", AckStream, err)
	}
	return nil
}

// Validate reports the first missing or malformed field.
func (k *Ack) Validate() error {
	switch {
	case k.AlarmID == "":
		return errors.New("ack: alarm_id is empty")
	case k.Site == "":
		return errors.New("ack: site is empty")
	case k.By == "":
		return errors.New("ack: by is empty")
	case k.Via == "":
		return errors.New("ack: via is empty")
	case k.At.IsZero():
		return errors.New("ack: at is missing")
	}
	return nil
}

// PublishAck publishes k on its subject and returns once JetStream stored
// it. A second acknowledgement of the same occurrence within the
// duplicate window is stored once (ack.Duplicate is then true).
func PublishAck(ctx context.Context, js jetstream.JetStream, k Ack) (*jetstream.PubAck, error) {
	k.Schema = AckSchema
	if err := k.Validate(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(AckSubject(k.Site, k.Room))
	msg.Data = data
	msg.Header.Set("Roomwatch-Schema", AckSchema)
	pa, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID("ack-"+k.AlarmID))
	if err != nil {
		return nil, fmt.Errorf("publish ack of %s: %w", k.AlarmID, err)
	}
	return pa, nil
}

// UnmarshalAck decodes an Ack message and rejects another schema.
func UnmarshalAck(data []byte) (*Ack, error) {
	var k Ack
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("ack: %w", err)
	}
	if k.Schema != AckSchema {
		return nil, fmt.Errorf("ack: schema %q, want %s", k.Schema, AckSchema)
	}
	return &k, k.Validate()
}
