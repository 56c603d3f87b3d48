package alerts

import "time"

// Notification attempts (schema roomwatch.delivery/v1).
//
// The notifier records every attempt to tell a person of an alarm on
// roomwatch.delivery.<site>.<room> in the stream ROOMWATCH_DELIVERIES: the
// daily record and the patrol screen show from it who was told of each
// alarm, how and when, and `roomwatch notify log` lists it.
const (
	DeliverySchema        = "roomwatch.delivery/v1"
	DeliverySubjectPrefix = "roomwatch.delivery"
	DeliveryStream        = "ROOMWATCH_DELIVERIES"
)

// Results of a delivery attempt.
const (
	DeliverySent    = "sent"      // the channel accepted it
	DeliveryFailed  = "failed"    // refused; retried with back-off
	DeliveryUnknown = "unknown"   // may have been delivered (a modem that timed out); not retried blindly
	DeliveryDead    = "dead"      // gave up: moved to the dead-letter subject
	DeliveryReport  = "delivered" // the handset's delivery report arrived
)

// Delivery is one attempt to tell one person of one or more alarms (a
// storm is grouped into one message).
type Delivery struct {
	Schema   string    `json:"schema"`
	ID       string    `json:"id"`        // notification id: idempotency key
	AlarmIDs []string  `json:"alarm_ids"` // the occurrences it tells of, worst first
	Site     string    `json:"site"`
	Room     string    `json:"room,omitempty"`
	Kind     string    `json:"kind"`            // firing | resolved | escalation | repeat | reminder | selftest | deadman
	Level    int       `json:"level,omitempty"` // escalation level, 0 = on duty
	Person   string    `json:"person,omitempty"`
	Address  string    `json:"address,omitempty"` // mobile, user id, e-mail, group webhook name
	Channel  string    `json:"channel"`           // the configured channel's name
	Result   string    `json:"result"`            // sent | failed | unknown | dead | delivered
	Answer   string    `json:"answer,omitempty"`  // the vendor's answer or modem report, verbatim
	Error    string    `json:"error,omitempty"`
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
}

// DeliverySubject is the subject of delivery records of site's room.
func DeliverySubject(site, room string) string {
	return DeliverySubjectPrefix + "." + Token(site) + "." + Token(room)
}
