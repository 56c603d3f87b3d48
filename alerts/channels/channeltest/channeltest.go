// Package channeltest holds what the channel packages' tests share: a
// logger that records what it is given, and the check that no error or
// log line of a channel shows one of its secrets.
package channeltest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
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
