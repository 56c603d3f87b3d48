package alerts

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Heartbeats (schema roomwatch.heartbeat/v1).
//
// The monitor publishes a Heartbeat per site on roomwatch.heartbeat.<site>
// (core NATS, not stored) every HeartbeatInterval while it runs. The
// notifier is the dead man's switch: a site silent for its configured
// time pages the person on duty.
const (
	HeartbeatSchema        = "roomwatch.heartbeat/v1"
	HeartbeatSubjectPrefix = "roomwatch.heartbeat"
	HeartbeatInterval      = 10 * time.Second
)

// Heartbeat says a site's monitor is alive and polling.
type Heartbeat struct {
	Schema    string    `json:"schema"`
	Site      string    `json:"site"`
	At        time.Time `json:"at"`
	Devices   int       `json:"devices"`   // configured devices of the site
	Reachable int       `json:"reachable"` // of which answered their last poll
	Firing    int       `json:"firing"`    // alarms of the site firing now
}

// HeartbeatSubject is site's heartbeat subject.
func HeartbeatSubject(site string) string { return HeartbeatSubjectPrefix + "." + Token(site) }

// PublishHeartbeat publishes h on its site's subject (core NATS: a
// heartbeat nobody hears is not kept).
func PublishHeartbeat(nc *nats.Conn, h Heartbeat) error {
	h.Schema = HeartbeatSchema
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := nc.Publish(HeartbeatSubject(h.Site), data); err != nil {
		return fmt.Errorf("heartbeat of site %s: %w", h.Site, err)
	}
	return nil
}
