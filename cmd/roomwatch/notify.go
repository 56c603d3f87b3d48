package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts/notify"
	"github.com/roomwatch/roomwatch/rules"
)

// runNotify is `roomwatch notify`: the notifier role on its own
// (--config FILE), `notify who` (who would be paged) and `notify log`
// (what was sent).
func runNotify(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "who":
			return runNotifyWho(args[1:], stdout, stderr)
		case "log":
			return runNotifyLog(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := notifyConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	nc, err := dialAs(cfg.NATS, roleNotifier, log, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch notify:", err)
		return 1
	}
	defer nc.Close()
	n, err := notify.New(cfg.Notify, nc, notify.Options{Alerts: cfg.Alerts}, log)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch notify:", err)
		return 1
	}
	if err := n.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "roomwatch notify:", err)
		return 1
	}
	fmt.Fprintf(stdout, "roomwatch notify: telling people of alarms of %s\n", strings.Join(cfg.Notify.Sites, ", "))
	<-ctx.Done()
	n.Stop()
	return 0
}

// notifyConfig loads a configuration that must have a notify section.
func notifyConfig(path string, stderr io.Writer) (*Config, int) {
	cfg, err := loadConfig(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 1
	}
	if cfg.Notify == nil {
		fmt.Fprintf(stderr, "%s: no notify section\n", path)
		return nil, 1
	}
	return cfg, 0
}

// runNotifyWho prints who would be paged for an alarm of a room at a
// time, level by level, and why: `roomwatch notify who --at TIME --room R`.
func runNotifyWho(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notify who", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	atFlag := fs.String("at", "", `local time "2026-12-01 23:30" (default now)`)
	room := fs.String("room", "", "room name")
	site := fs.String("site", "", "site name (default the first)")
	sev := fs.String("severity", "critical", "critical, major, minor or warning")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := notifyConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	loc := cfg.Notify.Location()
	at := time.Now().In(loc)
	if *atFlag != "" {
		t, err := time.ParseInLocation("2006-01-02 15:04", *atFlag, loc)
		if err != nil {
			fmt.Fprintf(stderr, "roomwatch notify who: --at %q: want \"2006-01-02 15:04\"\n", *atFlag)
			return 2
		}
		at = t
	}
	if *site == "" && len(cfg.Sites) > 0 {
		*site = cfg.Sites[0].Name
	}
	if !rules.Severity(*sev).Valid() {
		fmt.Fprintf(stderr, "roomwatch notify who: --severity %q: want critical, major, minor or warning\n", *sev)
		return 2
	}
	if err := notify.PrintWho(stdout, cfg.Notify, *site, *room, rules.Severity(*sev), at); err != nil {
		fmt.Fprintln(stderr, "roomwatch notify who:", err)
		return 1
	}
	return 0
}

// runNotifyLog prints the delivery records: `roomwatch notify log
// [--since 24h]`.
func runNotifyLog(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notify log", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	since := fs.Duration("since", 24*time.Hour, "how far back (0: everything)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := notifyConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	nc, js, err := dialJetStream(cfg.NATS)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch notify log:", err)
		return 1
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var from time.Time
	if *since > 0 {
		from = time.Now().Add(-*since)
	}
	list, err := notify.ReadLog(ctx, js, from)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch notify log:", err)
		return 1
	}
	if err := notify.PrintLog(stdout, list, cfg.Notify.Location()); err != nil {
		fmt.Fprintln(stderr, "roomwatch notify log:", err)
		return 1
	}
	return 0
}
