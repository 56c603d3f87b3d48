package patrol

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/incident"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
	"github.com/roomwatch/roomwatch/alerts/patrol/users"
	"github.com/roomwatch/roomwatch/alerts/unsigned"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

//go:embed web
var webFS embed.FS

// Options are what the screen needs besides its configuration.
type Options struct {
	Config Config
	// Rooms are the rooms shown, from the monitor's inventory.
	Rooms []Room
	// NC is a connection to the NATS server holding the alarms and
	// records.
	NC *nats.Conn
	// Alerts names the alarm state and daily buckets.
	Alerts alerts.Config
	Log    *slog.Logger
	// Now is the clock (tests set it); nil is time.Now.
	Now func() time.Time
	// Working is the rules' working-hours calendar, for the
	// unsigned-patrol alarm's working days (nil: every day is one).
	Working func(time.Time) bool
	// RaiseAlarms says that NC may publish alarms (the monitor's own
	// connection, inside `roomwatch run`): only then does patrol.unsigned
	// run here, as the alarm stream's writers are the monitor's.
	RaiseAlarms bool
	// Incidents is the monitor's incident configuration (alerts/incident):
	// the screen shows the incidents of its bucket and their reports.
	// Nil: no incident pages.
	Incidents *incident.Config
}

// Server is the patrol screen: New validates, Start opens its buckets and
// listens, Stop ends it.
type Server struct {
	cfg     Config
	alerts  alerts.Config
	rooms   []Room
	byKey   map[string]*Room
	nc      *nats.Conn
	js      jetstream.JetStream
	log     *slog.Logger
	now     func() time.Time
	working func(time.Time) bool
	key     []byte

	src      *source
	store    *Store
	sessions *sessions
	audit    *audit.Log
	hub      *hub
	limit    *limiter
	pages    map[string]*template.Template
	unsigned *unsigned.Checker // nil unless patrol.unsigned is set and raise
	raise    bool
	incCfg   *incident.Config
	incMu    sync.Mutex
	inc      *incident.Store // opened at first use: the monitor makes the bucket
	ovMu     sync.Mutex
	ovCache  map[string]overviewCache
	usersMu  sync.Mutex
	users    *users.File
	usersMod time.Time

	ln      net.Listener
	http    *http.Server
	tls     bool
	cancel  context.CancelFunc
	done    chan struct{}
	closing chan struct{}
}

// New validates the configuration, loads (or generates) the code key and
// parses the templates; it does no network I/O.
func New(o Options) (*Server, error) {
	errs := yamlconf.Errors{}
	o.Config.Validate(&errs, "patrol")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if o.NC == nil {
		return nil, errors.New("patrol: no NATS connection")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Alerts.Defaults()
	js, err := jetstream.New(o.NC)
	if err != nil {
		return nil, err
	}
	key, err := loadKey(o.Config.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("patrol key: %w", err)
	}
	s := &Server{
		cfg: o.Config, alerts: o.Alerts, nc: o.NC, js: js, log: o.Log.With("component", "patrol"), now: o.Now, working: o.Working, key: key, incCfg: o.Incidents, raise: o.RaiseAlarms,
		byKey: map[string]*Room{}, hub: newHub(o.Log),
		limit: newLimiter(o.Config.LoginAttempts, o.Config.LoginWindow),
		src:   &source{js: js, dailyB: o.Alerts.DailyBucket, stateB: o.Alerts.StateBucket},
		done:  make(chan struct{}), closing: make(chan struct{}),
		tls: o.Config.TLSCert != "",
	}
	for _, r := range o.Rooms {
		if r.Loc == nil {
			r.Loc = time.Local
		}
		s.rooms = append(s.rooms, r)
	}
	for i := range s.rooms {
		s.byKey[s.rooms[i].Site+"/"+s.rooms[i].Name] = &s.rooms[i]
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if _, err := s.loadUsers(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadUsers returns the users file, re-reading it when it changed, so
// `roomwatch user add` takes effect without a restart.
func (s *Server) loadUsers() (*users.File, error) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	st, err := os.Stat(s.cfg.UsersFile)
	mod := time.Time{}
	if err == nil {
		mod = st.ModTime()
	}
	if s.users != nil && mod.Equal(s.usersMod) {
		return s.users, nil
	}
	f, err := users.Load(s.cfg.UsersFile)
	if err != nil {
		if s.users != nil {
			s.log.Error("users file unreadable; keeping the previous one", "err", err)
			return s.users, nil
		}
		return nil, fmt.Errorf("patrol users: %w", err)
	}
	s.users, s.usersMod = f, mod
	return f, nil
}

// Start creates the patrol buckets and the audit stream, starts the live
// updates and listens.
func (s *Server) Start(ctx context.Context) error {
	var err error
	if s.store, err = OpenStore(ctx, s.js, s.cfg.Bucket, s.cfg.Replicas); err != nil {
		return err
	}
	if s.sessions, err = openSessions(ctx, s.js, s.cfg.SessionBucket, s.cfg.SessionTTL, s.cfg.Replicas); err != nil {
		return err
	}
	if s.audit, err = audit.Open(ctx, s.js, s.cfg.Replicas); err != nil {
		return err
	}
	// Acknowledgements go to the monitor's ack stream; the screen creates
	// it when it starts first and may (a screen role cannot: then
	// acknowledging waits for the monitor).
	if err := s.alerts.EnsureAckStream(ctx, s.js); err != nil {
		s.log.Warn("acknowledgements fail until the monitor creates the ack stream", "stream", alerts.AckStream, "err", err)
	}
	switch {
	case s.cfg.Unsigned != nil && s.raise:
		if err := s.startUnsigned(ctx); err != nil {
			return err
		}
	case s.cfg.Unsigned != nil:
		s.log.Info("patrol.unsigned is checked by `roomwatch run` (the monitor writes alarms), not by this process")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("patrol: listen %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if s.tls {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("patrol: tls: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.ln = tls.NewListener(ln, s.http.TLSConfig)
	}
	hctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.hub.watch(hctx, s.js, []string{s.src.dailyB, s.src.stateB, s.cfg.Bucket})
	}()
	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("patrol http", "err", err)
		}
	}()
	s.log.Info("patrol screen started", "addr", s.URL(), "rooms", len(s.rooms))
	return nil
}

// Stop ends the live streams, the listener and the watchers.
func (s *Server) Stop(ctx context.Context) {
	select {
	case <-s.closing:
		return
	default:
		close(s.closing)
	}
	if s.http != nil {
		_ = s.http.Shutdown(ctx)
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.unsigned != nil {
		s.unsigned.Stop()
	}
}

// Addr is the listener's address.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the screen's base URL as this process serves it.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	sub, err := fs.Sub(webFS, "web/templates")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(sub, "*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(sub, "layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("patrol template %s: %w", n, err)
		}
		out[n] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"t": func(lang, key string, args ...any) string { return tr(lang, key, args...) },
	"verdictClass": func(v string) string {
		switch v {
		case VerdictOK:
			return "ok"
		case VerdictAbnormal:
			return "bad"
		}
		return "none"
	},
}
