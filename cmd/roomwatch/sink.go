package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runSink is `roomwatch sink --listen ADDR`: a local webhook sink that
// prints what the notifier's HTTP channels send (the demo's stand-in for
// an SMS gateway and a WeCom or DingTalk robot) and answers as they do.
func runSink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9561", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch sink:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: &sinkPrinter{w: stdout}, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, "roomwatch sink: printing what arrives at http://%s/\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "roomwatch sink:", err)
		return 1
	}
	return 0
}

// sinkPrinter prints each request: when, where, to whom and the text.
type sinkPrinter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *sinkPrinter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	to, text := sinkText(body)
	s.mu.Lock()
	fmt.Fprintf(s.w, "── %s %s %s%s\n%s\n", time.Now().Format("15:04:05"), r.Method, r.URL.Path, to, text)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
}

// sinkText finds the recipient and the text in a gateway's or robot's
// JSON body (the body as it is otherwise).
func sinkText(body []byte) (to, text string) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "", strings.TrimSpace(string(body))
	}
	for _, k := range []string{"mobile", "to", "touser"} {
		if v, ok := m[k].(string); ok && v != "" {
			to = "  → " + v
		}
	}
	for _, k := range []string{"text", "markdown"} {
		switch v := m[k].(type) {
		case string:
			return to, v
		case map[string]any:
			if c, ok := v["content"].(string); ok {
				if ms, ok := v["mentioned_mobile_list"].([]any); ok && to == "" {
					to = fmt.Sprintf("  → @%v", ms)
				}
				return to, c
			}
			if c, ok := v["text"].(string); ok {
				return to, c
			}
		}
	}
	return to, strings.TrimSpace(string(body))
}
