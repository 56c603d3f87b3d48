package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
	"github.com/roomwatch/roomwatch/alerts/patrol/users"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// TestAuditVerify: `roomwatch audit verify` passes on an intact chain and
// fails, naming the entry, once the stream is rebuilt without one.
func TestAuditVerify(t *testing.T) {
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "roomwatch.yaml")
	cfg := fmt.Sprintf("state_dir: %s\nnats: {url: %q}\npatrol: {}\nsites:\n  - name: main\n    rooms: [{name: room1}]\n", dir, s.ClientURL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log, err := audit.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, action := range []string{audit.Login, audit.Scan, audit.Tick, audit.Sign, audit.Logout} {
		if _, err := log.Append(ctx, audit.Entry{Actor: "oper1", Action: action, Site: "main", Room: "room1", Object: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	verify := func() (int, string, string) {
		var out, errOut bytes.Buffer
		code := run([]string{"audit", "verify", "--config", cfgPath}, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := verify(); code != 0 || !strings.Contains(out, "5 entries") {
		t.Fatalf("intact chain: exit %d: %s %s", code, out, errOut)
	}

	// Deletes are denied, but the stream itself can be deleted and
	// rebuilt: rebuild it without entry 3.
	entries, err := audit.Read(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	rebuild(t, ctx, js, entries, func(e audit.Stored) []byte {
		if e.Entry.N == 3 {
			return nil
		}
		return e.Raw
	})
	code, _, errOut := verify()
	if code != 1 || !strings.Contains(errOut, "entry 4") || !strings.Contains(errOut, "removed") {
		t.Fatalf("entry removed: exit %d: %s", code, errOut)
	}

	// An altered entry.
	rebuild(t, ctx, js, entries, func(e audit.Stored) []byte {
		if e.Entry.N == 2 {
			return bytes.Replace(e.Raw, []byte(`"room1"`), []byte(`"room2"`), 1)
		}
		return e.Raw
	})
	code, _, errOut = verify()
	if code != 1 || !strings.Contains(errOut, "entry 2") || !strings.Contains(errOut, "altered") {
		t.Fatalf("entry altered: exit %d: %s", code, errOut)
	}
}

// rebuild deletes the audit stream and publishes entries again through
// edit (nil: left out), as someone with the server's admin rights could.
func rebuild(t *testing.T, ctx context.Context, js jetstream.JetStream, entries []audit.Stored, edit func(audit.Stored) []byte) {
	t.Helper()
	if err := js.DeleteStream(ctx, audit.Stream); err != nil {
		t.Fatal(err)
	}
	// The server removes the deleted stream's store behind the answer; a
	// create at once can meet it ("error creating store for stream").
	testutil.Eventually(t, 10*time.Second, "the audit stream created again", func() (bool, string) {
		_, err := js.CreateStream(ctx, audit.StreamConfig(1))
		return err == nil, fmt.Sprint(err)
	})
	for _, e := range entries {
		if data := edit(e); data != nil {
			m := nats.NewMsg(audit.Subject(e.Entry.Site, e.Entry.Action))
			m.Data = data
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestUserAdd: `roomwatch user add` writes a bcrypt hash the screen
// accepts.
func TestUserAdd(t *testing.T) {
	users.Cost = 4
	dir := t.TempDir()
	file := filepath.Join(dir, "users.yaml")
	stdin = strings.NewReader("s3cret-pass\n")
	defer func() { stdin = os.Stdin }()
	var out, errOut bytes.Buffer
	if code := run([]string{"user", "add", "zhangsan", "--role", "operator", "--title", "张三", "--users", file}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	f, err := users.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.Authenticate("zhangsan", "s3cret-pass"); err != nil || u.Role != users.Operator || u.Title != "张三" {
		t.Fatalf("user: %+v %v", u, err)
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "s3cret") {
		t.Fatal("password stored in clear")
	}
	stdin = strings.NewReader("x\n")
	if code := run([]string{"user", "add", "bad", "--role", "root", "--users", file}, &out, &errOut); code == 0 {
		t.Fatal("unknown role accepted")
	}
}

// TestPatrolConfig: the patrol section is validated with the rest, its
// errors named by field.
func TestPatrolConfig(t *testing.T) {
	dir := t.TempDir()
	bad := fmt.Sprintf("state_dir: %s\npatrol:\n  unsigned: {default: {workday: \"25:99\"}}\n  presence: 48h\n  rooms: {dc1: {manual_items: [{id: \"Bad Id\", title: x}]}}\nsites:\n  - name: main\n    rooms: [{name: dc1}]\n", dir)
	_, err := parseConfig("roomwatch.yaml", []byte(bad))
	if err == nil {
		t.Fatal("bad patrol section accepted")
	}
	for _, want := range []string{"patrol.unsigned.default.workday", "patrol.presence", "patrol.rooms.dc1.manual_items[0].id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
	good := fmt.Sprintf("state_dir: %s\npatrol: {}\nsites:\n  - name: main\n    rooms: [{name: dc1}]\n", dir)
	cfg, err := parseConfig("roomwatch.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Patrol.UsersFile != filepath.Join(dir, "patrol-users.yaml") || cfg.Patrol.Presence != 15*time.Minute || cfg.Patrol.Unsigned != nil {
		t.Fatalf("defaults: %+v", cfg.Patrol)
	}
}

// TestRunServesPatrol: `roomwatch run` with a patrol section serves the
// screen beside the monitor, with InfluxDB down.
func TestRunServesPatrol(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "http://127.0.0.1:1", upsDevice, `patrol: {listen: "127.0.0.1:0"}`)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	if a.patrol == nil {
		t.Fatal("patrol screen not started")
	}
	resp, err := http.Get(a.patrol.URL() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("login page: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestPatrolScreenRole: `roomwatch patrol` beside a running monitor
// connects with the screen role's key and, within that role's
// permissions, opens its buckets and audit stream, logs a user in and
// records it.
func TestPatrolScreenRole(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "http://127.0.0.1:1", upsDevice, `patrol: {listen: "127.0.0.1:0"}`)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NATS.Listen = a.srv.Addr().String()
	users.Cost = 4
	f := &users.File{}
	if err := f.Set("oper1", "张三", users.Operator, "password-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(cfg.Patrol.UsersFile); err != nil {
		t.Fatal(err)
	}
	nc, err := dialNATS(cfg.NATS, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s, err := startPatrol(cfg, nc, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("screen role: %v", err)
	}
	defer s.Stop(context.Background())
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/login", strings.NewReader("user=oper1&password=password-1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login under the screen role: %d", resp.StatusCode)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := audit.Verify(ctx, js); err != nil || n != 1 {
		t.Fatalf("audit after login: %d entries, %v", n, err)
	}
}
