package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts/patrol"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
	"github.com/roomwatch/roomwatch/alerts/patrol/users"
)

// patrolRooms are the configured rooms as the patrol screen shows them.
func patrolRooms(cfg *Config) []patrol.Room {
	var out []patrol.Room
	for _, s := range cfg.Sites {
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			loc = shanghai
		}
		for _, r := range s.Rooms {
			out = append(out, patrol.Room{Site: s.Name, Name: r.Name, Title: r.Title, TitleEN: r.TitleEN, CarryTime: r.CarryTime, Loc: loc})
		}
	}
	return out
}

// startPatrol starts the patrol screen on nc (the monitor's connection
// inside `roomwatch run`, where raise lets it raise the unsigned-patrol
// alarm; the screen role's own in `roomwatch patrol`).
func startPatrol(cfg *Config, nc *nats.Conn, raise bool, log *slog.Logger) (*patrol.Server, error) {
	if cfg.Patrol == nil {
		return nil, errors.New("no patrol section in the configuration")
	}
	s, err := patrol.New(patrol.Options{Config: *cfg.Patrol, Rooms: patrolRooms(cfg), NC: nc, Alerts: cfg.Alerts, Log: log, Working: workingHours(cfg.rules), Incidents: cfg.Incidents, RaiseAlarms: raise})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// runPatrol serves the patrol screen against the monitor's NATS server:
// `roomwatch patrol --config FILE`.
func runPatrol(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("patrol", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Patrol == nil {
		fmt.Fprintf(stderr, "%s: no patrol: section (add `patrol: {}` for the defaults)\n", *path)
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	nc, err := dialNATS(cfg.NATS, log, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch patrol:", err)
		return 1
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := startPatrol(cfg, nc, false, log)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch patrol:", err)
		return 1
	}
	fmt.Fprintf(stdout, "roomwatch: patrol screen on %s\n", s.URL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	s.Stop(sctx)
	return 0
}

// stdin is where `roomwatch user add` reads the password (tests replace
// it).
var stdin io.Reader = os.Stdin

// runUser adds or changes a user of the patrol screen:
// `roomwatch user add NAME --role operator [--title 张三] [--config FILE]`;
// the password is read from standard input (one line) or, when it is a
// terminal, asked for.
func runUser(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: roomwatch user add NAME --role viewer|operator|admin [--title NAME] [--config FILE] [--users FILE] < password")
		return 2
	}
	name := args[1]
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file (for patrol.users_file)")
	file := fs.String("users", "", "users file (default: patrol.users_file of the configuration)")
	role := fs.String("role", "", "viewer, operator or admin")
	title := fs.String("title", "", "the name shown on screens and signatures (张三)")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	if *file == "" {
		cfg, err := loadConfig(*path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		pc := patrol.Config{}
		if cfg.Patrol != nil {
			pc = *cfg.Patrol
		}
		pc.Defaults(cfg.StateDir)
		*file = pc.UsersFile
	}
	fmt.Fprintf(stderr, "password for %s: ", name)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "\nroomwatch user:", err)
		return 1
	}
	fmt.Fprintln(stderr)
	f, err := users.Load(*file)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch user:", err)
		return 1
	}
	if err := f.Set(name, *title, users.Role(*role), strings.TrimRight(line, "\r\n")); err != nil {
		fmt.Fprintln(stderr, "roomwatch user:", err)
		return 1
	}
	if err := f.Save(*file); err != nil {
		fmt.Fprintln(stderr, "roomwatch user:", err)
		return 1
	}
	fmt.Fprintf(stdout, "user %s (%s) written to %s\n", name, *role, *file)
	return 0
}

// runAudit verifies the patrol audit chain: `roomwatch audit verify
// --config FILE`. It exits 1 naming the first removed or altered entry.
func runAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: roomwatch audit verify [--config FILE]")
		return 2
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	nc, js, err := dialJetStream(cfg.NATS)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch audit:", err)
		return 1
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := audit.Verify(ctx, js)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch audit:", err)
		return 1
	}
	fmt.Fprintf(stdout, "审计链完整 / audit chain intact: %d entries\n", n)
	return 0
}
