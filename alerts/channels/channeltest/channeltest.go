// Package channeltest holds what the channel packages' tests share: a
// logger that records what it is given, the check that no error or log
// line of a channel shows one of its secrets, the check of a config's
// problems, and an address nothing answers at.
package channeltest

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Log is a concurrency-safe buffer behind a text slog.Logger.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write records p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a debug-level logger writing into a new Log.
func Logger() (*slog.Logger, *Log) {
	l := &Log{}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// NoLeak fails t if any text contains any secret (empty secrets are
// ignored). Pass error strings, logs and answers the channel produced.
func NoLeak(t testing.TB, secrets []string, texts ...string) {
	t.Helper()
	for i, s := range secrets {
		if s == "" {
			continue
		}
		for _, x := range texts {
			if strings.Contains(x, s) {
				t.Errorf("secret #%d leaks in %q", i, strings.ReplaceAll(x, s, "<secret>"))
			}
		}
	}
}

// Errors is the text of each non-nil error, for NoLeak.
func Errors(errs ...error) []string {
	var s []string
	for _, e := range errs {
		if e != nil {
			s = append(s, e.Error())
		}
	}
	return s
}

// Problems validates cfg under the path "c" and checks its problems:
// none when want is empty, else each of want within the error. what
// names the case in a failure.
func Problems(t testing.TB, what string, cfg interface {
	Validate(errs *yamlconf.Errors, path string)
}, want []string) {
	t.Helper()
	errs := yamlconf.Errors{}
	cfg.Validate(&errs, "c")
	err := errs.Err()
	if (err == nil) != (len(want) == 0) {
		t.Errorf("%s: %v", what, err)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v, want %q", what, err, w)
		}
	}
}

// DeadURL is the address of an HTTP server that has stopped: a request
// to it fails to connect.
func DeadURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}
