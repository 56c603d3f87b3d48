package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx"
)

// authServer starts the embedded server with its defaults (role keys on)
// and the monitor's streams: the alarms of site main, acknowledgements,
// the sample spool.
func authServer(t *testing.T) (NATSConfig, *server.Server, jetstream.JetStream) {
	t.Helper()
	cfg := defaultNATSConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.StoreDir = filepath.Join(t.TempDir(), "jetstream")
	srv, nc, err := startNATS(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNATS(srv, nc) })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if err := alerts.EnsureStreams(ctx, js, "main", alerts.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, alerts.DefaultConfig().AckStreamConfig()); err != nil {
		t.Fatal(err)
	}
	sc := influx.DefaultSpoolConfig()
	sc.MaxBytes = 1 << 20
	if _, err := influx.EnsureStream(ctx, js, sc); err != nil {
		t.Fatal(err)
	}
	return cfg, srv, js
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// roleJS connects as role in process; any permissions violation on the
// connection fails the test.
func roleJS(t *testing.T, cfg NATSConfig, srv *server.Server, role string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := connectRole(cfg, srv, role, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { t.Errorf("%s: %v", role, err) })
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func alarmCount(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(testContext(t), alerts.AlarmStreamName(alerts.DefaultConfig().StreamPrefix, "main"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestRoleKeysWrittenPrivate(t *testing.T) {
	cfg, _, _ := authServer(t)
	fi, err := os.Stat(cfg.keysDir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("keys dir %s: %v %v, want mode 0700", cfg.keysDir(), fi.Mode().Perm(), err)
	}
	for _, role := range roles {
		fi, err := os.Stat(cfg.roleSeedFile(role))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s key: %v, want mode 0600", role, err)
		}
	}
	if err := os.Chmod(cfg.roleSeedFile(roleScreen), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureRoleKeys(cfg); err == nil {
		t.Error("a key readable by others was accepted")
	}
}

func TestAnonymousClientCannotConnect(t *testing.T) {
	_, srv, _ := authServer(t)
	if nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the embedded server")
	}
	if nc, err := nats.Connect(srv.ClientURL(), nats.Token("guess"), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a client with a made-up token connected")
	}
}

// TestScreenCannotPublishAlarm: with the screen's key, an alarm reaches
// neither the subject nor the stream, and the screen cannot widen a
// stream it writes to capture alarm subjects or write the alarm state.
func TestScreenCannotPublishAlarm(t *testing.T) {
	cfg, srv, monitor := authServer(t)
	denied := make(chan error, 10)
	nc, err := nats.Connect("", nats.InProcessServer(srv), mustRoleAuth(t, cfg, roleScreen),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { denied <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := testContext(t)
	subject := "roomwatch.alarm.main.dc1.critical"

	// Core publish: refused, and nothing lands in the stream.
	if err := nc.Publish(subject, []byte(`{"schema":"roomwatch.alarm/v1"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-denied:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("publish of an alarm: %v, want a permissions violation", err)
		}
	case <-ctx.Done():
		t.Fatal("no permissions violation for an alarm published by the screen")
	}
	// What is refused gets no answer: each try waits for its own short
	// deadline.
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		t.Cleanup(cancel)
		return c
	}
	// Through JetStream: refused.
	if _, err := js.Publish(short(), subject, []byte(`{}`)); err == nil {
		t.Error("the screen published an alarm into the stream")
	}
	// Widening the acknowledgement stream to alarm subjects: refused.
	sc := alerts.DefaultConfig().AckStreamConfig()
	sc.Subjects = append(sc.Subjects, "roomwatch.alarm.evil.>")
	if _, err := js.UpdateStream(short(), sc); err == nil {
		t.Error("the screen updated the acknowledgement stream")
	}
	// A stream of its own on alarm subjects: refused.
	if _, err := js.CreateStream(short(), jetstream.StreamConfig{Name: "EVIL", Subjects: []string{"roomwatch.alarm.x.>"}}); err == nil {
		t.Error("the screen created a stream")
	}
	// A push consumer on the acknowledgements (which the screen writes)
	// delivering into an alarm subject: the stream would store what it
	// delivers, but nobody may listen on alarm subjects, so it never
	// becomes active.
	if _, err := js.Publish(ctx, alerts.AckSubject("main", "dc1"), []byte(`{"forged":"alarm"}`)); err != nil {
		t.Fatal(err)
	}
	if sub, err := nc.SubscribeSync(subject); err == nil {
		if err := nc.Flush(); err == nil {
			select {
			case err := <-denied:
				if !errors.Is(err, nats.ErrPermissionViolation) {
					t.Errorf("subscribe to alarms: %v, want a permissions violation", err)
				}
			case <-ctx.Done():
				t.Error("the screen subscribed to an alarm subject")
			}
		}
		_ = sub.Unsubscribe()
	}
	push, err := js.CreateOrUpdatePushConsumer(ctx, alerts.AckStream, jetstream.ConsumerConfig{Name: "evil",
		DeliverSubject: subject, AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := push.Info(ctx); err != nil || info.PushBound || info.Delivered.Consumer != 0 {
		t.Errorf("push consumer into alarms: bound %v, delivered %d (%v); want inactive", info.PushBound, info.Delivered.Consumer, err)
	}
	// The sample spool, a work queue: no consumer of the screen's.
	if _, err := js.CreateConsumer(short(), influx.DefaultStream, jetstream.ConsumerConfig{}); err == nil {
		t.Error("the screen created a consumer on the sample spool")
	}
	// The alarm state bucket: read only.
	kv, err := js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatalf("the screen cannot read the alarm state bucket: %v", err)
	}
	if _, err := kv.Put(short(), "fp", []byte("{}")); err == nil {
		t.Error("the screen wrote the alarm state")
	}
	if n := alarmCount(t, monitor); n != 0 {
		t.Fatalf("the alarm stream holds %d messages from the screen", n)
	}
}

// mustRoleAuth is the option that authenticates as role.
func mustRoleAuth(t *testing.T, cfg NATSConfig, role string) nats.Option {
	t.Helper()
	o, err := roleAuth(cfg, role)
	if err != nil || o == nil {
		t.Fatalf("role %s: %v", role, err)
	}
	return o
}

// TestRolesDoTheirWork: each role publishes and consumes its streams
// through JetStream.
func TestRolesDoTheirWork(t *testing.T) {
	cfg, srv, monitor := authServer(t)
	ctx := testContext(t)
	alarmStream := alerts.AlarmStreamName(alerts.DefaultConfig().StreamPrefix, "main")

	// The monitor publishes an alarm.
	if _, err := monitor.Publish(ctx, "roomwatch.alarm.main.dc1.critical", []byte(`{"n":1}`)); err != nil {
		t.Fatalf("monitor: publish alarm: %v", err)
	}

	// The screen reads it, and acknowledges through JetStream.
	_, screen := roleJS(t, cfg, srv, roleScreen)
	readOne(t, screen, alarmStream, "screen")
	if _, err := screen.Publish(ctx, alerts.AckSubject("main", "dc1"), []byte(`{"ack":1}`)); err != nil {
		t.Fatalf("screen: publish ack: %v", err)
	}
	kv, err := screen.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "none"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("screen: alarm state get: %v, want key not found", err)
	}
	if _, err := kv.Keys(ctx); !errors.Is(err, jetstream.ErrNoKeysFound) { // an ordered consumer, deleted after
		t.Errorf("screen: alarm state keys: %v, want none found", err)
	}

	// The notifier reads the alarm, keeps its buckets and its delivery
	// stream, records a delivery and turns an SMS reply into an ack.
	_, notifier := roleJS(t, cfg, srv, roleNotifier)
	readOne(t, notifier, alarmStream, "notifier")
	if _, err := notifier.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: alerts.DeliveryStream,
		Subjects: []string{alerts.DeliverySubjectPrefix + ".>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("notifier: delivery stream: %v", err)
	}
	nkv, err := notifier.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "roomwatch_notify_sent"})
	if err != nil {
		t.Fatalf("notifier: bucket: %v", err)
	}
	if _, err := nkv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("notifier: bucket put: %v", err)
	}
	if _, err := notifier.Publish(ctx, alerts.DeliverySubject("main", "dc1"), []byte(`{"d":1}`)); err != nil {
		t.Fatalf("notifier: publish delivery: %v", err)
	}
	if _, err := notifier.Publish(ctx, alerts.AckSubject("main", "dc1"), []byte(`{"ack":2}`)); err != nil {
		t.Fatalf("notifier: publish ack: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	other, err := connectRole(cfg, srv, roleNotifier, quietLog()) // expects a refusal
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ojs, _ := jetstream.New(other)
	if _, err := ojs.Publish(short, "roomwatch.alarm.main.dc1.critical", []byte(`{}`)); err == nil {
		t.Error("the notifier published an alarm")
	}

	// The monitor consumes acknowledgements and deliveries.
	if got := readAll(t, monitor, alerts.AckStream); got != 2 {
		t.Errorf("monitor read %d acknowledgements, want 2", got)
	}
	if got := readAll(t, monitor, alerts.DeliveryStream); got != 1 {
		t.Errorf("monitor read %d deliveries, want 1", got)
	}
	if n := alarmCount(t, monitor); n != 1 {
		t.Errorf("the alarm stream holds %d messages, want the monitor's one", n)
	}

	// The CLI (`roomwatch alarms`, `roomwatch ack`) dials the listener
	// with the screen's key from the state directory.
	cli := cfg
	cli.Listen = srv.Addr().String()
	nc, err := dialNATS(cli, quietLog())
	if err != nil {
		t.Fatalf("CLI: %v", err)
	}
	nc.Close()
}

// readOne reads the first message of stream through a consumer.
func readOne(t *testing.T, js jetstream.JetStream, stream, who string) {
	t.Helper()
	if got := readAll(t, js, stream); got < 1 {
		t.Fatalf("%s: read %d messages of %s", who, got, stream)
	}
}

// readAll counts the messages of stream through an ephemeral pull
// consumer, acknowledging each.
func readAll(t *testing.T, js jetstream.JetStream, stream string) int {
	t.Helper()
	ctx := testContext(t)
	c, err := js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy,
		InactiveThreshold: time.Minute})
	if err != nil {
		t.Fatalf("consumer on %s: %v", stream, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := int(info.NumPending)
	if n == 0 {
		return 0
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		if err := m.Ack(); err != nil {
			t.Fatalf("ack on %s: %v", stream, err)
		}
		got++
	}
	if err := batch.Error(); err != nil {
		t.Fatalf("fetch from %s: %v", stream, err)
	}
	return got
}

// TestExternalRoleCredentials: on an external server, each role in the
// process connects with its own credentials where configured.
func TestExternalRoleCredentials(t *testing.T) {
	ext, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, Users: []*server.User{
			{Username: "rw", Password: "pw"},
			{Username: "patrol", Password: "pp", Permissions: rolePermissions(roleScreen)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	go ext.Start()
	if !ext.ReadyForConnections(10 * time.Second) {
		t.Fatal("external server not ready")
	}
	defer func() { ext.Shutdown(); ext.WaitForShutdown() }()
	cfg := defaultNATSConfig()
	cfg.URL = ext.ClientURL()
	cfg.User, cfg.Password = "rw", "pw"
	cfg.Roles = map[string]NATSCredentials{roleScreen: {User: "patrol", Password: "pp"}}
	for role, want := range map[string]string{roleMonitor: "rw", roleNotifier: "rw", roleScreen: "patrol"} {
		nc, err := connectRole(cfg, nil, role, quietLog())
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		cid, _ := nc.GetClientID()
		connz, err := ext.Connz(&server.ConnzOptions{Username: true, CID: cid})
		nc.Close()
		if err != nil || len(connz.Conns) != 1 || connz.Conns[0].AuthorizedUser != want {
			t.Errorf("%s connected as %+v (%v), want user %s", role, connz, err, want)
		}
	}
}
