package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// runAck acknowledges one alarm: `roomwatch ack ID [--comment TEXT]
// [--by NAME] [--config FILE]`. It publishes an acknowledgement (via cli)
// on ROOMWATCH_ACKS and waits for the monitor, the single writer of alarm
// state, to apply it.
func runAck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: roomwatch ack ID [--comment TEXT] [--by NAME] [--config FILE]\n  ID: the alarm's id, as `roomwatch alarms` shows it")
		fs.PrintDefaults()
	}
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	comment := fs.String("comment", "", "what was done or found (确认备注)")
	by := fs.String("by", "", "who acknowledges (default: the user name)")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the monitor to apply it")
	// Flags may come before or after the id.
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	id := fs.Arg(0)
	if fs.NArg() > 1 {
		if code, ok := parseFlags(fs, fs.Args()[1:]); !ok {
			return code
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "roomwatch ack: unexpected argument %q\n", fs.Arg(0))
			return 2
		}
	}
	if id == "" {
		fs.Usage()
		return 2
	}
	fail := func(err error) int { return report(stderr, "ack", err) }
	who := *by
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	if who == "" {
		return fail(errors.New("--by: empty, and the user name is unknown (give --by NAME)"))
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return fail(err)
	}
	nc, js, err := dialJetStream(cfg.NATS)
	if err != nil {
		return fail(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second+*wait)
	defer cancel()
	kv, err := js.KeyValue(ctx, cfg.Alerts.StateBucket)
	if err != nil {
		return fail(fmt.Errorf("alarm state bucket %s: %w (has the monitor run?)", cfg.Alerts.StateBucket, err))
	}
	a, err := findAlarm(ctx, kv, id)
	if err != nil {
		return fail(err)
	}
	if a.AckAt != nil {
		fmt.Fprintf(stdout, "告警 %s 已由 %s 于 %s 确认 / already acknowledged\n", a.ID, a.AckBy, a.AckAt.In(shanghai).Format(time.DateTime))
		return 0
	}
	host, _ := os.Hostname()
	k := alerts.Ack{AlarmID: a.ID, Fingerprint: a.Fingerprint, Site: a.Site, Room: a.Room, By: who,
		Via: alerts.AckViaCLI, From: host, Comment: *comment, At: time.Now()}
	if _, err := alerts.PublishAck(ctx, js, k); err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(*wait)
	for {
		cur, err := findAlarm(ctx, kv, id)
		if err == nil && cur.AckAt != nil {
			fmt.Fprintf(stdout, "已确认告警 %s（%s，%s）/ acknowledged by %s\n", cur.ID, cur.AckBy,
				cur.AckAt.In(shanghai).Format(time.DateTime), cur.AckBy)
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stdout, "确认已提交，监控进程尚未处理（是否在运行？）/ acknowledgement published; the monitor has not applied it yet (is it running?)\n")
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findAlarm returns the alarm whose current occurrence is id.
func findAlarm(ctx context.Context, kv jetstream.KeyValue, id string) (*alerts.Alarm, error) {
	all, err := alerts.LoadState(ctx, kv)
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no alarm %s (`roomwatch alarms --all` lists them)", id)
}
