package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// fakeChannel records what it is asked to send; fail makes sends fail.
type fakeChannel struct {
	name string
	mu   sync.Mutex
	sent []channels.Message
	fail error
}

func (f *fakeChannel) Name() string { return f.name }

func (f *fakeChannel) Send(_ context.Context, m *channels.Message) (channels.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return channels.Receipt{Retry: true, Answer: "refused"}, f.fail
	}
	f.sent = append(f.sent, *m)
	return channels.Receipt{Answer: "ok"}, nil
}

func (f *fakeChannel) messages() []channels.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]channels.Message(nil), f.sent...)
}

var _ channels.Channel = (*fakeChannel)(nil)

// posted is one request of the httpsms channel to the sink.
type posted struct {
	Instance string `json:"-"`
	Mobile   string `json:"mobile"`
	Text     string `json:"text"`
}

// people of the sink's configurations by mobile.
var byMobile = map[string]string{"13800138001": "张三", "13800138002": "李四", "13800138003": "王主任", "13800138004": "赵院长"}

// sinkChannel is a channel section sending through the real httpsms
// gateway channel to url, the instance named in a header.
func sinkChannel(url, instance string) string {
	return `
  - name: sink
    kind: httpsms
    rate: 40/s
    httpsms:
      url: ` + url + `
      headers: {Content-Type: application/json, X-Instance: ` + instance + `}
      body: '{"mobile": {{json .Mobile}}, "text": {{json .Text}}}'
      success_match: '"errcode":0'
`
}

// sink counts what it answered, per recipient and alarm ("alarm-17").
type sink struct {
	mu     sync.Mutex
	counts map[string]int // "<person>/<alarm>"
	msgs   []posted
	// hold, if set, is called for each request before it is answered;
	// false drops it unanswered (not accepted).
	hold func(p posted) bool
}

var alarmName = regexp.MustCompile(`alarm-\d+`)

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p posted
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.Instance = r.Header.Get("X-Instance")
	if s.hold != nil && !s.hold(p) {
		panic(http.ErrAbortHandler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, p)
	for _, a := range alarmName.FindAllString(p.Text, -1) {
		s.counts[byMobile[p.Mobile]+"/"+a]++
	}
	fmt.Fprint(w, `{"errcode":0}`)
}

func (s *sink) snapshot() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.counts {
		out[k] = v
	}
	return out, len(s.msgs)
}

// waitFor polls cond until it holds, failing t after d
// (testutil.Eventually).
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, func() (bool, string) { return cond(), "" })
}

// env is a NATS server with site main's alarm streams and a publisher.
type env struct {
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *alerts.Publisher
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := alerts.EnsureStreams(ctx, js, "main", alerts.Config{}); err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, nc: nc, js: js, pub: alerts.NewPublisher(js, nil, alerts.PublisherOptions{}, nil)}
}

// fire publishes a firing alarm of room dc1 named "alarm-<i>".
func (e *env) fire(t testing.TB, i int, sev alerts.Severity, text string) *alerts.Alarm {
	t.Helper()
	now := time.Now().UTC()
	a := &alerts.Alarm{
		Fingerprint: fmt.Sprintf("fp%d", i), Rule: "ups-on-battery", Severity: sev, State: alerts.Firing,
		Site: "main", Room: "dc1", Device: "ups1", ActiveAt: now, StartedAt: now, UpdatedAt: now,
		Text: map[string]string{"zh": fmt.Sprintf("alarm-%d %s", i, text)},
	}
	if _, err := e.pub.Publish(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// start runs a notifier with the given channels until the test ends.
func (e *env) start(t testing.TB, cfg *Config, chans map[string]channels.Channel, instance string) *Notifier {
	t.Helper()
	n, err := New(cfg, e.nc, Options{Channels: chans, Instance: instance, Tick: 50 * time.Millisecond}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// The kill test's child: a notifier in its own process, killed with -9.
const childEnv = "ROOMWATCH_NOTIFY_CHILD"

// killYAML is the kill test's configuration (no on-duty roster: two
// fixed people), shared by parent and child; the channel goes to the sink.
func killYAML(url, instance string) string {
	return `
storm: {window: 0s}
ack_wait: 2s
claim_lease: 2s
retry: {min: 100ms, max: 1s, attempts: 20}
deadman: {silence: 0s}
channels:` + sinkChannel(url, instance) + `
people:
  - {name: 张三, mobile: "13800138001", channels: [sink]}
  - {name: 李四, mobile: "13800138002", channels: [sink]}
routes:
  - levels: [{after: 0s, to: [张三, 李四]}]
    repeat: 0s
`
}

func runChild() int {
	c := DefaultConfig()
	if _, err := yamlDecode(killYAML(os.Getenv("SINK_URL"), "child"), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	nc, err := nats.Connect(os.Getenv("NATS_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n, err := New(&c, nc, Options{Instance: "child", Tick: 50 * time.Millisecond}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := n.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("started")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	return 0
}

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
