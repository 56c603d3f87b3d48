package influx

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

const kill9Env = "ROOMWATCH_TEST_KILL9_STORE"

// natsOn starts the embedded JetStream server as roomwatch runs it,
// storing in dir; edit changes its options first.
func natsOn(dir string, edit ...func(*server.Options)) (*server.Server, error) {
	o := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir,
		NoSigs: true, NoLog: true, SyncAlways: true, SyncInterval: time.Second}
	for _, e := range edit {
		e(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		return nil, fmt.Errorf("nats server not ready")
	}
	return s, nil
}

// kill9Child is the monitor that TestKill9 kills (run from TestMain when
// kill9Env is set): it spools samples on an embedded server, says how
// many the spool acknowledged, and keeps publishing until it is killed.
func kill9Child(dir string) error {
	s, err := natsOn(dir)
	if err != nil {
		return err
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		return err
	}
	log, _ := newLog()
	m := NewMetrics(nil)
	sp, err := NewSpool(nc, DefaultSpoolConfig(), log, m)
	if err != nil {
		return err
	}
	sp.Start()
	const n = 3000
	for i := range n {
		sp.Publish(envSet("th-1", i))
	}
	for deadline := time.Now().Add(time.Minute); value(m.published) < n; {
		if time.Now().After(deadline) {
			return fmt.Errorf("%v of %d samples acknowledged after a minute", value(m.published), n)
		}
		time.Sleep(time.Millisecond)
	}
	// The spool persists asynchronously: an acknowledged message may wait
	// a few milliseconds for the flusher (see NATSConfig). Wait until the
	// stream's message blocks on disk hold every byte it accounts for.
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	st, err := js.Stream(context.Background(), DefaultStream)
	if err != nil {
		return err
	}
	info, err := st.Info(context.Background())
	if err != nil {
		return err
	}
	blocks := filepath.Join(dir, "jetstream", "$G", "streams", DefaultStream, "msgs", "*.blk")
	for deadline := time.Now().Add(time.Minute); ; {
		files, _ := filepath.Glob(blocks)
		var onDisk int64
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				onDisk += fi.Size()
			}
		}
		if onDisk >= int64(info.State.Bytes) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of the stream's %d bytes on disk after a minute (%s)", onDisk, info.State.Bytes, blocks)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("ACKED %d\n", n)
	for i := n; ; i++ { // still polling when the kill comes
		sp.Publish(envSet("th-1", i))
		if i == n+100 {
			fmt.Println("PUBLISHING")
		}
		time.Sleep(100 * time.Microsecond) // a busy site's poll rate
	}
}

// The monitor killed with SIGKILL while InfluxDB is down: every sample the
// spool acknowledged is written once a new monitor starts on the same
// store and InfluxDB is back.
func TestKill9(t *testing.T) {
	srv := influxtest.Start(t)
	srv.Stop()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), kill9Env+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "ACKED "); ok {
			acked, _ = strconv.Atoi(n)
		}
		if sc.Text() == "PUBLISHING" { // kill it while it publishes
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if acked == 0 {
		t.Fatal("the child never reported acknowledged samples")
	}

	srv.Start()
	s, err := natsOn(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	nc := connect(t, s)
	log, logs := newLog()
	m := NewMetrics(nil)
	w, err := NewWriter(nc, testConfig(srv), log, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	testutil.Eventually(t, time.Minute, "the spool drained", func() (bool, string) {
		return value(m.depthMsgs) == 0 && value(m.written) > 0, fmt.Sprint(value(m.depthMsgs))
	})
	res, err := srv.Query(fmt.Sprintf(`SELECT COUNT(temperature_c) FROM roomwatch_env WHERE time < %d`,
		t0.Add(time.Duration(acked)*time.Second).UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].Series[0].Values[0][1]; fmt.Sprint(got) != strconv.Itoa(acked) {
		t.Errorf("%v of the %d acknowledged samples in InfluxDB\n%s", got, acked, logs)
	}
	t.Logf("acknowledged before the kill: %d; written in all: %v", acked, value(m.written))
}
