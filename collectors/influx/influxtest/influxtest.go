// Package influxtest runs a real InfluxDB 1.8 server (influxd) for tests:
// a generated configuration on random loopback ports, data under
// t.TempDir(), Stop and Start to simulate an outage, and an InfluxQL
// query helper.
//
// influxd is found through the environment variable ROOMWATCH_INFLUXD,
// then PATH, then $(go env GOPATH)/bin. When it is missing the test fails
// under CI=true and is skipped otherwise. Install it with
//
//	go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10
package influxtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/testutil"
)

// Database is the database Start creates.
const Database = "roomwatch"

// Server is a running (or stopped) influxd.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	conf   string
	logf   string
	httpAd string

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{}
}

// Find returns the path of influxd, or "" when it is not installed.
func Find() string {
	if p := os.Getenv("ROOMWATCH_INFLUXD"); p != "" {
		return p
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "influxd")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Start runs influxd for the test, waits until it answers /ping and
// creates Database. The server is stopped and its data removed when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// Options change the server Start runs.
type Options struct {
	// Flux enables Flux queries (http flux-enabled) on /api/v2/query, for
	// QueryFlux.
	Flux bool
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Find()
	if bin == "" {
		testutil.PeerMissing(t, "influxd not found (set ROOMWATCH_INFLUXD, put it on PATH or go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10)")
	}
	dir := t.TempDir()
	s := &Server{t: t, bin: bin, dir: dir, conf: filepath.Join(dir, "influxdb.conf"), logf: filepath.Join(dir, "influxd.log")}
	var lastErr error
	for range 3 { // a port picked free may be taken before influxd binds it
		httpAd, rpcAd := freePort(t), freePort(t)
		s.httpAd = httpAd
		conf := fmt.Sprintf(`reporting-disabled = true
bind-address = %q
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = %q
  log-enabled = false
  max-body-size = 0
  flux-enabled = %t
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
`, rpcAd, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpAd, o.Flux)
		if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
			t.Fatalf("influxtest: write config: %v", err)
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("influxtest: %v", lastErr)
	}
	t.Cleanup(s.Stop)
	if _, err := s.Query("CREATE DATABASE " + Database); err != nil {
		t.Fatalf("influxtest: %v", err)
	}
	return s
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("influxtest: pick a port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// URL is the server's HTTP address, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return "http://" + s.httpAd }

// Pid is the running influxd's process id (0 when stopped), for
// benchmarks that read its CPU time.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts a stopped server again on the same port and data, and waits
// until it answers.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("influxtest: restart: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	cmd := exec.Command(s.bin, "-config", s.conf)
	// Die with the test process, even when it is killed on a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "INFLUXDB_DATA_QUERY_LOG_ENABLED=false")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exit) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL() + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				break
			}
		}
		select {
		case <-exit:
			b, _ := os.ReadFile(s.logf)
			return fmt.Errorf("influxd exited at start: %s", tail(b))
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exit
			return fmt.Errorf("influxd did not answer /ping on %s within 30s", s.httpAd)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd, s.exit = cmd, exit
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for
// it to exit. Its data stays for Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
}

// Result is one InfluxQL statement's series.
type Result struct {
	Series []Series `json:"series"`
	Error  string   `json:"error"`
}

// Series is a measurement's rows: Columns names the row entries; time is
// in nanoseconds since the epoch (json.Number).
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Rows returns the series' rows as maps from column to value.
func (s Series) Rows() []map[string]any {
	out := make([]map[string]any, len(s.Values))
	for i, v := range s.Values {
		m := make(map[string]any, len(v))
		for j, c := range s.Columns {
			if j < len(v) {
				m[c] = v[j]
			}
		}
		out[i] = m
	}
	return out
}

// Query runs InfluxQL statements against Database (epoch=ns, numbers as
// json.Number) and returns their results.
func (s *Server) Query(q string) ([]Result, error) {
	form := url.Values{"q": {q}, "db": {Database}, "epoch": {"ns"}}
	resp, err := http.PostForm(s.URL()+"/query", form)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: HTTP %d: %s", q, resp.StatusCode, body)
	}
	var out struct {
		Results []Result `json:"results"`
		Error   string   `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("query %q: decode: %w", q, err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("query %q: %s", q, out.Error)
	}
	for _, r := range out.Results {
		if r.Error != "" {
			return out.Results, fmt.Errorf("query %q: %s", q, r.Error)
		}
	}
	return out.Results, nil
}

// Count returns SELECT COUNT(field) FROM measurement (0 when empty).
func (s *Server) Count(measurement, field string) (int64, error) {
	res, err := s.Query(fmt.Sprintf(`SELECT COUNT(%q) FROM %q`, field, measurement))
	if err != nil {
		return 0, err
	}
	if len(res) == 0 || len(res[0].Series) == 0 || len(res[0].Series[0].Values) == 0 {
		return 0, nil
	}
	n, ok := res[0].Series[0].Values[0][1].(json.Number)
	if !ok {
		return 0, fmt.Errorf("count %s.%s: unexpected %v", measurement, field, res[0].Series[0].Values[0])
	}
	return n.Int64()
}

// QueryFlux runs a Flux query (the server must run with Options.Flux) and
// returns its annotated CSV. The bucket of Database is "roomwatch/autogen".
func (s *Server) QueryFlux(q string) (string, error) {
	body, err := json.Marshal(map[string]any{"query": q, "type": "flux",
		"dialect": map[string]any{"header": true, "annotations": []string{"datatype", "group", "default"}}})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/query", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("flux query: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("flux query: HTTP %d: %s", resp.StatusCode, out)
	}
	// An error met while streaming comes as a table with an "error" column.
	if strings.HasPrefix(string(out), "#datatype,string,string") && strings.Contains(string(out), ",error,reference") {
		return "", fmt.Errorf("flux query: %s", out)
	}
	return string(out), nil
}
