package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEmbeddedNATS(t *testing.T) {
	cfg := defaultNATSConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.StoreDir = filepath.Join(t.TempDir(), "js")
	srv, nc, err := startNATS(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer stopNATS(srv, nc)
	if srv == nil {
		t.Fatal("no embedded server")
	}
	o := srv.JetStreamConfig()
	if o == nil || o.StoreDir == "" || !strings.HasPrefix(o.StoreDir, cfg.StoreDir) {
		t.Fatalf("JetStream not on %s: %+v", cfg.StoreDir, o)
	}
	// Alarms and audit streams fsync every write; the spool every second.
	if !o.SyncAlways || o.SyncInterval != defaultSyncInterval {
		t.Errorf("sync_always %v, sync_interval %v; want true, %v", o.SyncAlways, o.SyncInterval, defaultSyncInterval)
	}
	if !srv.ReadyForConnections(time.Second) || srv.Addr() == nil {
		t.Fatal("not listening")
	}

	// The spool stream works over the in-process connection.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sc := influx.DefaultSpoolConfig()
	sc.MaxBytes = 1 << 20
	st, err := influx.EnsureStream(ctx, js, sc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, sc.SubjectPrefix+".s.r.d", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 1 || info.Config.PersistMode != jetstream.AsyncPersistMode {
		t.Fatalf("spool stream: %+v, %v", info, err)
	}

	// Other processes reach it on the listen address, with a role's key
	// only.
	url := srv.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Errorf("client URL %s is not on loopback", url)
	}
	if c, err := nats.Connect(url); err == nil {
		c.Close()
		t.Error("connected without a key")
	}
	key, err := nats.NkeyOptionFromSeed(cfg.roleSeedFile(roleNotifier))
	if err != nil {
		t.Fatal(err)
	}
	c, err := nats.Connect(url, key)
	if err != nil {
		t.Fatalf("connect with the notifier's key: %v", err)
	}
	c.Close()
}

func TestEmbeddedNATSDataSurvivesRestart(t *testing.T) {
	cfg := defaultNATSConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.StoreDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sc := influx.DefaultSpoolConfig()
	sc.MaxBytes = 1 << 20
	for round := range 2 {
		srv, nc, err := startNATS(cfg, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		st, err := influx.EnsureStream(ctx, js, sc)
		if err != nil {
			stopNATS(srv, nc)
			t.Fatal(err)
		}
		if round == 0 {
			for range 10 {
				if _, err := js.Publish(ctx, sc.SubjectPrefix+".s.r.d", []byte("{}")); err != nil {
					t.Fatal(err)
				}
			}
		} else if info, err := st.Info(ctx); err != nil || info.State.Msgs != 10 {
			t.Errorf("after restart: %+v, %v", info, err)
		}
		stopNATS(srv, nc)
	}
}

func TestExternalNATS(t *testing.T) {
	ext, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, Username: "rw", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	go ext.Start()
	if !ext.ReadyForConnections(10 * time.Second) {
		t.Fatal("external server not ready")
	}
	defer func() { ext.Shutdown(); ext.WaitForShutdown() }()

	cfg := defaultNATSConfig()
	cfg.URL = ext.ClientURL() + ", " + ext.ClientURL()
	cfg.User, cfg.Password = "rw", "pw"
	srv, nc, err := startNATS(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if srv != nil {
		t.Error("an embedded server started although a URL is configured")
	}
	if !nc.IsConnected() {
		t.Error("not connected")
	}
	stopNATS(srv, nc)

	cfg.Password = "wrong"
	if _, nc, err := startNATS(cfg, quietLog()); err == nil {
		nc.Close()
		t.Fatal("connected with a wrong password")
	} else if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestNATSConfigValidate(t *testing.T) {
	good := defaultNATSConfig()
	var errs yamlconf.Errors
	good.Validate(&errs, "nats")
	if err := errs.Err(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*NATSConfig)
		want string
	}{
		{"bad url", func(c *NATSConfig) { c.URL = "http://x:4222" }, "nats.url: entry 1"},
		{"two auth methods", func(c *NATSConfig) { c.URL = "nats://x:4222"; c.User, c.Password, c.Token = "u", "p", "t" }, "choose one"},
		{"user without password", func(c *NATSConfig) { c.User = "u" }, "nats.password: user and password go together"},
		{"cert without key", func(c *NATSConfig) { c.TLSCert = "/dev/null" }, "tls_cert and tls_key go together"},
		{"missing file", func(c *NATSConfig) { c.URL = "nats://x:4222"; c.CredsFile = "/nonexistent/x.creds" }, "nats.creds_file:"},
		{"creds with embedded", func(c *NATSConfig) { c.CredsFile = "/dev/null" }, "are for an external server"},
		{"token with embedded", func(c *NATSConfig) { c.Token = "t" }, "nats.user: user, password, token"},
		{"role credentials with embedded", func(c *NATSConfig) {
			c.Roles = map[string]NATSCredentials{roleScreen: {User: "s", Password: "p"}}
		}, "nats.roles.screen: per-role credentials are for an external server"},
		{"unknown role", func(c *NATSConfig) {
			c.URL = "nats://x:4222"
			c.Roles = map[string]NATSCredentials{"admin": {Token: "t"}}
		}, "nats.roles.admin: unknown role"},
		{"role user without password", func(c *NATSConfig) {
			c.URL = "nats://x:4222"
			c.Roles = map[string]NATSCredentials{roleNotifier: {User: "n"}}
		}, "nats.roles.notifier.password: user and password go together"},
		{"unknown auth", func(c *NATSConfig) { c.Auth = "token" }, `nats.auth: "token" is not roles or none`},
		{"bad listen", func(c *NATSConfig) { c.Listen = "localhost" }, "nats.listen:"},
		{"no store", func(c *NATSConfig) { c.StoreDir = "" }, "nats.store_dir: required"},
		{"lax sync", func(c *NATSConfig) { c.SyncInterval = 5 * time.Minute }, "nats.sync_interval:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultNATSConfig()
			c.mod(&cfg)
			var errs yamlconf.Errors
			cfg.Validate(&errs, "nats")
			err := errs.Err()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}
