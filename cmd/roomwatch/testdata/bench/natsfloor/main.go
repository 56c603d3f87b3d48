// Command natsfloor is the NATS floor of `make bench` (issue 12): the
// embedded NATS server as `roomwatch run` starts it (JetStream, every
// write fsynced but the spool's, 8 MiB payloads; newEmbeddedNATS in
// cmd/roomwatch/nats.go), the streams, buckets and consumer the monitor
// creates for one site at the default configuration (the samples spool
// and the InfluxDB writer's durable consumer, the site's alarm and record
// streams, the alarm state and daily record buckets, the acknowledgement
// stream), one in-process client connection, and nothing else: no
// device, no rules, no writer, not one message published.
//
// What it costs idle (CPU a second, peak RSS, anonymous and file pages)
// is what the monitor cannot go below while it keeps its durable spool in
// JetStream: BenchmarkNATSFloor (cmd/roomwatch/bench_test.go) builds it
// and measures it as a child process, as BenchmarkIdle measures `roomwatch
// run` with one device. It lives under testdata so that `go build ./...`
// leaves it out.
//
// Usage: natsfloor -store DIR. It prints "ready" on stdout once the
// streams exist and runs until SIGTERM or an interrupt.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx"
)

func main() {
	store := flag.String("store", "", "JetStream store directory")
	flag.Parse()
	if *store == "" {
		fail(fmt.Errorf("-store: a directory is required"))
	}
	srv, err := server.NewServer(&server.Options{
		ServerName:   "roomwatch",
		Host:         "127.0.0.1",
		Port:         server.RANDOM_PORT,
		JetStream:    true,
		StoreDir:     *store,
		SyncAlways:   true,
		SyncInterval: time.Second,
		NoSigs:       true,
		MaxPayload:   8 << 20,
	})
	if err != nil {
		fail(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		fail(fmt.Errorf("embedded server not ready within 30s"))
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		fail(err)
	}
	defer nc.Close()
	if err := ensure(nc); err != nil {
		fail(err)
	}
	fmt.Println("ready")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
}

// ensure creates what the monitor creates for the site "bench" with the
// default alerts and InfluxDB configuration (the spool as the benchmark
// configures it: 4 GiB).
func ensure(nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ic := influx.DefaultConfig()
	ic.Spool.MaxBytes = 4 << 30
	st, err := influx.EnsureStream(ctx, js, ic.Spool)
	if err != nil {
		return fmt.Errorf("spool stream: %w", err)
	}
	if _, err := st.CreateOrUpdateConsumer(ctx, influx.ConsumerConfig(ic)); err != nil {
		return fmt.Errorf("writer consumer: %w", err)
	}
	ac := alerts.DefaultConfig()
	if err := alerts.EnsureStreams(ctx, js, "bench", ac); err != nil {
		return fmt.Errorf("alarm streams: %w", err)
	}
	if err := ac.EnsureAckStream(ctx, js); err != nil {
		return fmt.Errorf("ack stream: %w", err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "natsfloor:", err)
	os.Exit(1)
}
