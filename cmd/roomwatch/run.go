package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runMonitor runs the monitor until SIGINT or SIGTERM; SIGHUP reloads the
// configuration: `roomwatch run --config FILE`.
func runMonitor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return report(stderr, "run", err)
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	a := newApp(cfg, *path, log)
	if err := a.Start(); err != nil {
		log.Error("start", "err", err)
		a.Stop()
		return 1
	}
	fmt.Fprintf(stdout, "roomwatch: monitoring %d devices; metrics on http://%s/metrics\n", len(a.jobs()), a.Addr())
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping")
			a.Stop()
			return 0
		case <-hup:
			if err := a.Reload(); err != nil {
				log.Error("reload: configuration rejected, keeping the running one", "err", err)
			}
		}
	}
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// shutdownTimeout bounds a graceful stop: flush alarms, spool, records.
const shutdownTimeout = 20 * time.Second
