package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx"
)

// Who may speak on the wire. The embedded NATS server knows one user per
// role, each an nkey whose seed is generated at first start into
// nats.keys_dir (default <state_dir>/nats-keys, files of mode 0600), and
// each with the subjects its role needs, nothing more. The roles in the
// monitor's process use them automatically (connectRole); so do the CLI
// subcommands that dial the running monitor (dialNATS: `roomwatch
// alarms`, and acknowledging from the CLI), with the screen's role, an
// operator's. A notifier or screen in another process on the host sets
// nats.url to the monitor's listener and nats.nkey_file to its role's
// seed file. `nats.auth: none` turns all this off (loopback only; `check`
// warns otherwise).
//
// An external server keeps its own users: give it the same permissions
// (rolePermissions is the reference) and each process its credentials.

// The roles.
const (
	roleMonitor  = "monitor"  // collectors, rules, publishing
	roleScreen   = "screen"   // the patrol screen and the CLI: an operator
	roleNotifier = "notifier" // SMS, WeCom, modem
)

// roles lists every role, in the order their keys are written.
var roles = []string{roleMonitor, roleScreen, roleNotifier}

// Auth modes of the embedded server.
const (
	authRoles = "roles" // default: one nkey per role, per-role permissions
	authNone  = "none"  // anyone who reaches the listener may do anything
)

// ownStreams are the streams (key-value buckets as KV_<bucket>) a role
// creates and updates, and the buckets it writes. The monitor owns the
// JetStream API as a whole.
var ownStreams = map[string]struct{ streams, buckets []string }{
	roleScreen: {
		streams: []string{"ROOMWATCH_PATROL", "ROOMWATCH_AUDIT", "KV_roomwatch_patrol", "KV_roomwatch_patrol_sessions"},
		buckets: []string{"roomwatch_patrol", "roomwatch_patrol_sessions", "roomwatch_incidents"}, // incident reports are completed and signed on the screen
	},
	roleNotifier: {
		streams: []string{alerts.DeliveryStream, "ROOMWATCH_NOTIFY", "KV_roomwatch_notify_sent", "KV_roomwatch_notify_pending"},
		buckets: []string{"roomwatch_notify_sent", "roomwatch_notify_pending"},
	},
}

// readAPI is the JetStream API a reading role may call on any stream:
// information, consumers (ordered consumers delete theirs when done),
// direct and stored message gets. Stream creation, update, deletion and
// purge are not in it: a screen cannot add an alarm subject to a stream
// it writes.
var readAPI = []string{
	"$JS.API.INFO",
	"$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
	"$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>",
	"$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.DURABLE.CREATE.>",
	"$JS.API.CONSUMER.INFO.>", "$JS.API.CONSUMER.NAMES.>", "$JS.API.CONSUMER.LIST.>",
	"$JS.API.CONSUMER.MSG.NEXT.>", "$JS.API.CONSUMER.DELETE.>",
	"$JS.ACK.>", "$JS.FC.>",
}

// readDeny is what a reading role may not do although readAPI allows
// it: consume the sample spool, a work queue whose messages an ack
// removes before InfluxDB has them, or touch its writer's consumer.
var readDeny = []string{
	"$JS.API.CONSUMER.CREATE." + influx.DefaultStream, "$JS.API.CONSUMER.CREATE." + influx.DefaultStream + ".>",
	"$JS.API.CONSUMER.DURABLE.CREATE." + influx.DefaultStream + ".>",
	"$JS.API.CONSUMER.DELETE." + influx.DefaultStream + ".>",
	"$JS.API.CONSUMER.MSG.NEXT." + influx.DefaultStream + ".>",
	"$JS.ACK." + influx.DefaultStream + ".>",
}

// rolePermissions are the subjects a role may publish to and subscribe
// to. The roles read alarms, acknowledgements and deliveries through
// JetStream consumers; the subscriptions are for live messages.
func rolePermissions(role string) *server.Permissions {
	var pub, sub []string
	switch role {
	case roleMonitor:
		pub = []string{"roomwatch.samples.>", "roomwatch.alarm.>", "roomwatch.daily.>", "roomwatch.heartbeat.>",
			"$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>"}
		sub = []string{"_INBOX.>", "roomwatch.>"}
	case roleScreen:
		pub = []string{alerts.AckSubjectPrefix + ".>", "roomwatch.patrol.>", "roomwatch.audit.>"}
		sub = []string{"_INBOX.>", "roomwatch.daily.>", "roomwatch.delivery.>",
			alerts.AckSubjectPrefix + ".>", "roomwatch.patrol.>", "roomwatch.audit.>", "roomwatch.heartbeat.>"}
	case roleNotifier:
		// Its own alarm (notify-channel-failing) goes on the site's
		// alarm stream under the room "notify", and only there.
		pub = []string{alerts.DeliverySubjectPrefix + ".>", "roomwatch.notify.>", alerts.AckSubjectPrefix + ".>",
			alerts.AlarmSubjectPrefix + ".*.notify.>"}
		sub = []string{"_INBOX.>", alerts.AckSubjectPrefix + ".>", "roomwatch.heartbeat.>",
			alerts.DeliverySubjectPrefix + ".>", "roomwatch.notify.>"}
	default:
		return nil
	}
	if own, ok := ownStreams[role]; ok {
		pub = append(pub, readAPI...)
		for _, s := range own.streams {
			pub = append(pub, "$JS.API.STREAM.CREATE."+s, "$JS.API.STREAM.UPDATE."+s)
		}
		for _, b := range own.buckets {
			pub = append(pub, "$KV."+b+".>")
		}
	}
	var pubDeny []string
	if role != roleMonitor {
		pubDeny = readDeny
	}
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: pub, Deny: pubDeny},
		// Alarms are read through JetStream consumers (on inboxes), never
		// by subscribing to their subjects: with no one listening there, a
		// push consumer pointed at an alarm subject stays inactive, and
		// cannot copy a stream the role writes (acknowledgements) into the
		// alarm stream.
		Subscribe: &server.SubjectPermission{Allow: sub, Deny: []string{"roomwatch.alarm.>"}},
	}
}

// keysDir is where the role seeds live: nats.keys_dir, or nats-keys
// beside the JetStream store.
func (c *NATSConfig) keysDir() string {
	if c.KeysDir != "" {
		return c.KeysDir
	}
	return filepath.Join(filepath.Dir(filepath.Clean(c.StoreDir)), "nats-keys")
}

// roleSeedFile is the seed file of role.
func (c *NATSConfig) roleSeedFile(role string) string {
	return filepath.Join(c.keysDir(), role+".nk")
}

// ensureRoleKeys creates the keys directory (0700) and a seed (0600) for
// every role that has none, and returns the server's users.
func ensureRoleKeys(c NATSConfig) ([]*server.NkeyUser, error) {
	dir := c.keysDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats: keys_dir: %w", err)
	}
	var users []*server.NkeyUser
	for _, role := range roles {
		kp, err := loadOrCreateSeed(c.roleSeedFile(role))
		if err != nil {
			return nil, err
		}
		pub, err := kp.PublicKey()
		kp.Wipe()
		if err != nil {
			return nil, fmt.Errorf("nats: %s key: %w", role, err)
		}
		users = append(users, &server.NkeyUser{Nkey: pub, Permissions: rolePermissions(role)})
	}
	return users, nil
}

// loadOrCreateSeed reads a user seed file, or writes a new one (mode
// 0600, created exclusively) when there is none.
func loadOrCreateSeed(path string) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, fmt.Errorf("nats: new key %s: %w", path, err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, fmt.Errorf("nats: new key %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("nats: write key: %w", err)
		}
		_, werr := f.Write(append(seed, '\n'))
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("nats: write key %s: %w", path, err)
		}
		return kp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nats: read key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("nats: key %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return nil, fmt.Errorf("nats: key %s: %w", path, err)
	}
	return kp, nil
}

// roleAuth is the connection option that authenticates as role to the
// embedded server: the role's seed from the keys directory. It is nil
// with auth none or an external server (whose credentials are the
// configured ones).
func roleAuth(c NATSConfig, role string) (nats.Option, error) {
	if !c.Embedded() || c.authMode() == authNone || c.hasCredentials() {
		return nil, nil
	}
	if !slices.Contains(roles, role) {
		return nil, fmt.Errorf("nats: unknown role %q", role)
	}
	file := c.roleSeedFile(role)
	o, err := nats.NkeyOptionFromSeed(file)
	if err != nil {
		return nil, fmt.Errorf("nats: %s key %s: %w (has the monitor run once?)", role, file, err)
	}
	return o, nil
}

// authMode is the embedded server's auth setting with its default.
func (c *NATSConfig) authMode() string {
	if c.Auth == "" {
		return authRoles
	}
	return c.Auth
}

// hasCredentials reports whether credentials are configured explicitly.
func (c *NATSConfig) hasCredentials() bool {
	return c.User != "" || c.Token != "" || c.NKeyFile != "" || c.CredsFile != ""
}
