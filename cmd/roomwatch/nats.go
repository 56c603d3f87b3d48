package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Defaults of NATSConfig.
const (
	defaultNATSListen   = "127.0.0.1:4222"
	defaultNATSStoreDir = "/var/lib/roomwatch/jetstream"
	// defaultSyncInterval is how often the embedded server fsyncs the
	// samples spool (see NATSConfig.SyncInterval).
	defaultSyncInterval = time.Second
)

// NATSConfig is the `nats:` block: an external NATS server or cluster
// (URL set), or an embedded server with JetStream on local disk (URL empty).
//
// Durability on power loss (this is a power monitor). JetStream's file
// store writes a message to the OS before acknowledging it but fsyncs only
// every sync_interval (2 minutes by default); a published power-cut
// analysis of NATS 2.12.1 lost acknowledged messages at that default
// (nats-server issue 7564). The interval is a server-wide option; the only
// per-stream setting in nats-server 2.15 / nats.go 1.55 is the stream's
// persist_mode, and it can only relax durability ("async": the ack may
// precede the write), never tighten it. So the embedded server runs with
// sync_always (every write is fsynced before it is acknowledged) and the
// samples spool alone opts out with persist_mode async, which makes it
// fall back to the sync interval:
//
//   - alarms, audit records, patrol records and their consumers' state
//     (every stream other than the spool): nothing acknowledged is lost on
//     power loss or kill -9;
//   - samples spool: a power loss loses at most the last SyncInterval
//     (default 1 s) of samples, plus consumer progress of up to that long,
//     which is harmless (the writer rewrites the same points); kill -9 of
//     the process loses at most the last ~10 ms of samples (the async
//     flusher's coalescing window), the same order as what is still in
//     the collectors' in-memory queue anyway.
//
// An external server keeps its own sync settings: give it
// `jetstream { sync_interval: always }` for the same guarantees.
type NATSConfig struct {
	// URL lists external servers, comma-separated
	// (nats://host:4222,tls://host2:4222). Empty: run an embedded server.
	URL string `yaml:"url"`
	// TLS: CA file to verify the server; cert and key for a client
	// certificate (external) or the listener's certificate (embedded).
	TLSCA   string `yaml:"tls_ca"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Credentials for an external server. The embedded server
	// authenticates each role with its own key instead (see natsauth.go).
	NATSCredentials `yaml:",inline"`
	// Roles gives a role (monitor, screen, notifier) in this process its
	// own credentials on an external server, so the server can hold each
	// to its subjects; a role not listed uses the credentials above.
	Roles map[string]NATSCredentials `yaml:"roles"`

	// Embedded server only.
	// Auth is "roles" (default: one generated nkey per role, each with
	// its role's subjects) or "none" (no authentication: loopback only).
	Auth string `yaml:"auth"`
	// KeysDir holds the roles' nkey seeds (mode 0600), generated at first
	// start. Default: nats-keys beside store_dir (<state_dir>/nats-keys).
	KeysDir string `yaml:"keys_dir"`
	// Listen is host:port where other processes on this host (notifier,
	// patrol screen) reach the embedded server. Port 0 picks a free one.
	Listen string `yaml:"listen"`
	// StoreDir holds the JetStream data.
	StoreDir string `yaml:"store_dir"`
	// SyncInterval is how often the samples spool is fsynced: what a
	// power loss can cost of samples. Everything else is fsynced on every
	// write.
	SyncInterval time.Duration `yaml:"sync_interval"`
}

// NATSCredentials are a client's credentials for an external server: one
// of user/password, token, nkey seed file or creds file.
type NATSCredentials struct {
	User      string          `yaml:"user"`
	Password  yamlconf.Secret `yaml:"password"`
	Token     yamlconf.Secret `yaml:"token"`
	NKeyFile  string          `yaml:"nkey_file"`
	CredsFile string          `yaml:"creds_file"`
}

// validate records the problems of c under the field path p gives.
func (c *NATSCredentials) validate(errs *yamlconf.Errors, p func(string) string) {
	for _, f := range []struct{ field, name string }{{"nkey_file", c.NKeyFile}, {"creds_file", c.CredsFile}} {
		if f.name != "" {
			if _, err := os.Stat(f.name); err != nil {
				errs.Addf(p(f.field), "%v", err)
			}
		}
	}
	methods := 0
	for _, set := range []bool{c.User != "" || c.Password != "", c.Token != "", c.NKeyFile != "", c.CredsFile != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		errs.Addf(p("user"), "choose one of user/password, token, nkey_file, creds_file")
	}
	if (c.User == "") != (c.Password == "") {
		errs.Addf(p("password"), "user and password go together")
	}
}

// options are the connection options of c (none when c is empty).
func (c *NATSCredentials) options() ([]nats.Option, error) {
	switch {
	case c.User != "":
		return []nats.Option{nats.UserInfo(c.User, string(c.Password))}, nil
	case c.Token != "":
		return []nats.Option{nats.Token(string(c.Token))}, nil
	case c.CredsFile != "":
		return []nats.Option{nats.UserCredentials(c.CredsFile)}, nil
	case c.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats: nkey_file %s: %w", c.NKeyFile, err)
		}
		return []nats.Option{o}, nil
	}
	return nil, nil
}

// defaultNATSConfig returns the defaults to decode a `nats:` block into.
func defaultNATSConfig() NATSConfig {
	return NATSConfig{Listen: defaultNATSListen, StoreDir: defaultNATSStoreDir, SyncInterval: defaultSyncInterval}
}

// Embedded reports whether the embedded server is used.
func (c *NATSConfig) Embedded() bool { return strings.TrimSpace(c.URL) == "" }

// Validate records every problem of c under path (e.g. "nats").
func (c *NATSConfig) Validate(errs *yamlconf.Errors, path string) {
	p := func(f string) string {
		if path == "" {
			return f
		}
		return path + "." + f
	}
	fileExists := func(field, name string) {
		if name == "" {
			return
		}
		if _, err := os.Stat(name); err != nil {
			errs.Addf(p(field), "%v", err)
		}
	}
	fileExists("tls_ca", c.TLSCA)
	fileExists("tls_cert", c.TLSCert)
	fileExists("tls_key", c.TLSKey)
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs.Addf(p("tls_cert"), "tls_cert and tls_key go together")
	}
	c.NATSCredentials.validate(errs, p)
	for _, role := range slices.Sorted(maps.Keys(c.Roles)) {
		rc := c.Roles[role]
		rp := func(f string) string { return p("roles." + role + "." + f) }
		if !slices.Contains(roles, role) {
			errs.Addf(p("roles."+role), "unknown role (monitor, screen, notifier)")
		}
		if c.Embedded() {
			errs.Addf(p("roles."+role), "per-role credentials are for an external server (url); the embedded server generates each role's key")
		}
		rc.validate(errs, rp)
	}
	if !c.Embedded() {
		for i, u := range splitURLs(c.URL) {
			pu, err := url.Parse(u)
			if err != nil || pu.Host == "" || !(pu.Scheme == "nats" || pu.Scheme == "tls" || pu.Scheme == "ws" || pu.Scheme == "wss") {
				errs.Addf(p("url"), "entry %d %q is not a nats://, tls://, ws:// or wss:// URL", i+1, u)
			}
		}
		return
	}
	if c.hasCredentials() {
		errs.Addf(p("user"), "user, password, token, nkey_file and creds_file are for an external server (url); the embedded server gives each role its own key in keys_dir (auth: roles)")
	}
	if a := c.authMode(); a != authRoles && a != authNone {
		errs.Addf(p("auth"), "%q is not roles or none", a)
	}
	if c.TLSCA != "" && c.TLSCert == "" {
		errs.Addf(p("tls_ca"), "the embedded server needs tls_cert and tls_key to serve TLS")
	}
	if _, err := listenAddr(c.Listen); err != nil {
		errs.Addf(p("listen"), "%v", err)
	}
	if c.StoreDir == "" {
		errs.Addf(p("store_dir"), "required for the embedded server")
	}
	if c.SyncInterval <= 0 {
		errs.Addf(p("sync_interval"), "must be positive (e.g. 1s)")
	} else if c.SyncInterval > 2*time.Minute {
		errs.Addf(p("sync_interval"), "%v would let a power loss cost that much data; at most 2m", c.SyncInterval)
	}
}

func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

type hostPort struct {
	host string
	port int
}

func listenAddr(s string) (hostPort, error) {
	h, ps, err := net.SplitHostPort(s)
	if err != nil {
		return hostPort{}, fmt.Errorf("%q is not host:port: %w", s, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return hostPort{}, fmt.Errorf("%q: port %q is not 0-65535", s, ps)
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return hostPort{h, port}, nil
}

// startNATS starts the embedded server (URL empty) and connects to it in
// process, or connects to the external servers. The server is nil when
// external. Stop with stopNATS.
func startNATS(cfg NATSConfig, log *slog.Logger) (*server.Server, *nats.Conn, error) {
	var srv *server.Server
	if cfg.Embedded() {
		var err error
		if srv, err = newEmbeddedNATS(cfg, log.With("component", "nats")); err != nil {
			return nil, nil, err
		}
	}
	nc, err := connectRole(cfg, srv, roleMonitor, log)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		return nil, nil, err
	}
	if srv == nil {
		log.Info("nats: connected", "server", nc.ConnectedUrlRedacted())
	}
	return srv, nc, nil
}

// connectRole opens another connection for role (a notifier or screen in
// the monitor's process): to the embedded server srv in process with the
// role's key, or to the external servers with the configured
// credentials.
func connectRole(cfg NATSConfig, srv *server.Server, role string, log *slog.Logger) (*nats.Conn, error) {
	log = log.With("component", "nats", "role", role)
	opts, err := clientOptions(cfg, role, log)
	if err != nil {
		return nil, err
	}
	if srv == nil {
		nc, err := nats.Connect(strings.Join(splitURLs(cfg.URL), ","), opts...)
		if err != nil {
			return nil, fmt.Errorf("nats: %s: connect %s: %w", role, redactURLs(cfg.URL), err)
		}
		return nc, nil
	}
	nc, err := nats.Connect("", append(opts, nats.InProcessServer(srv))...)
	if err != nil {
		return nil, fmt.Errorf("nats: %s: connect to embedded server: %w", role, err)
	}
	return nc, nil
}

// dialNATS connects a client (a subcommand such as `roomwatch alarms`) to
// the configured external servers, or to the running monitor's embedded
// server at its listen address, with the screen's (an operator's) key
// from the state directory. extra options come last (a long-running
// client such as the patrol screen sets reconnects).
func dialNATS(cfg NATSConfig, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	return dialAs(cfg, roleScreen, log, extra...)
}

// dialJetStream is dialNATS for a one-shot subcommand (`roomwatch notify
// log`, `roomwatch audit verify`): no log, no reconnects, and the
// JetStream context on the connection. The caller closes the connection.
func dialJetStream(cfg NATSConfig) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := dialNATS(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// dialAs is dialNATS for role (`roomwatch notify`: the notifier's key);
// extra options (a long-running role's reconnects) come last.
func dialAs(cfg NATSConfig, role string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	opts, err := clientOptions(cfg, role, log)
	if err != nil {
		return nil, err
	}
	url := strings.Join(splitURLs(cfg.URL), ",")
	if cfg.Embedded() {
		hp, err := listenAddr(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("nats: listen: %w", err)
		}
		host := hp.host
		if host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		scheme := "nats"
		if cfg.TLSCert != "" {
			scheme = "tls"
		}
		url = fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, strconv.Itoa(hp.port)))
		if cfg.TLSCA != "" {
			opts = append(opts, nats.RootCAs(cfg.TLSCA))
		}
	}
	nc, err := nats.Connect(url, append(append(opts, nats.MaxReconnects(0), nats.Timeout(5*time.Second)), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect %s: %w (is the monitor running?)", redactURLs(url), err)
	}
	return nc, nil
}

// clientOptions are the connection options of cfg for role: credentials
// (the role's key on the embedded server), TLS for external servers,
// reconnects and logging.
func clientOptions(cfg NATSConfig, role string, log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("roomwatch " + role),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(2 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Error("nats: async error", "subject", subj, "err", err)
		}),
	}
	creds := cfg.NATSCredentials
	if rc, ok := cfg.Roles[role]; ok && !cfg.Embedded() {
		creds = rc
	}
	co, err := creds.options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, co...)
	o, err := roleAuth(cfg, role)
	if err != nil {
		return nil, err
	}
	if o != nil {
		opts = append(opts, o)
	}

	if !cfg.Embedded() {
		if cfg.TLSCA != "" {
			opts = append(opts, nats.RootCAs(cfg.TLSCA))
		}
		if cfg.TLSCert != "" {
			opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
		}
	}
	return opts, nil
}

// newEmbeddedNATS starts the embedded server and waits until it accepts
// connections.
func newEmbeddedNATS(cfg NATSConfig, log *slog.Logger) (*server.Server, error) {
	hp, err := listenAddr(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats: listen: %w", err)
	}
	if hp.port == 0 {
		hp.port = server.RANDOM_PORT
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("nats: store_dir: %w", err)
	}
	sync := cfg.SyncInterval
	if sync <= 0 {
		sync = defaultSyncInterval
	}
	o := &server.Options{
		ServerName: "roomwatch",
		Host:       hp.host,
		Port:       hp.port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		// Every stream fsyncs each write before acknowledging it, except
		// the samples spool, which opts out (persist_mode async) and is
		// fsynced every SyncInterval. See NATSConfig.
		SyncAlways:   true,
		SyncInterval: sync,
		NoSigs:       true,
		NoLog:        false,
		MaxPayload:   8 << 20,
	}
	if cfg.authMode() == authRoles {
		users, err := ensureRoleKeys(cfg)
		if err != nil {
			return nil, err
		}
		o.Nkeys = users
	}
	if cfg.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, CaFile: cfg.TLSCA})
		if err != nil {
			return nil, fmt.Errorf("nats: tls: %w", err)
		}
		o.TLSConfig = tc
		o.TLS = true
	}
	srv, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("nats: embedded server: %w", err)
	}
	srv.SetLoggerV2(slogAdapter{log}, false, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("nats: embedded server not ready within 30s (is " + cfg.Listen + " in use? see the log)")
	}
	log.Info("nats: embedded server ready", "listen", srv.ClientURL(), "store_dir", cfg.StoreDir, "sync_interval", sync)
	return srv, nil
}

// stopNATS drains the connection and shuts the embedded server down (srv
// may be nil).
func stopNATS(srv *server.Server, nc *nats.Conn) {
	if nc != nil {
		done := make(chan struct{})
		nc.SetClosedHandler(func(*nats.Conn) { close(done) })
		if err := nc.Drain(); err == nil {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
			}
		}
		nc.Close()
	}
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// redactURLs hides passwords in URLs for error messages.
func redactURLs(s string) string {
	parts := splitURLs(s)
	for i, p := range parts {
		if u, err := url.Parse(p); err == nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// slogAdapter is the embedded server's logger.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Noticef(format string, v ...any) { a.log.Info(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Warnf(format string, v ...any)   { a.log.Warn(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Fatalf(format string, v ...any)  { a.log.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Errorf(format string, v ...any)  { a.log.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Debugf(format string, v ...any)  { a.log.Debug(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Tracef(format string, v ...any)  { a.log.Debug(fmt.Sprintf(format, v...)) }
