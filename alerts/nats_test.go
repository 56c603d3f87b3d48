package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/alerts/natstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runNATS starts an embedded JetStream server on a random loopback port
// with its store in a temporary directory.
func runNATS(t testing.TB) *server.Server { return natstest.Start(t) }

// setup starts a server, creates site's streams and buckets and returns
// the JetStream context and the state bucket; edit changes the server's
// options first.
func setup(t testing.TB, site string, edit ...func(*server.Options)) (*server.Server, *nats.Conn, jetstream.JetStream, jetstream.KeyValue) {
	t.Helper()
	s := natstest.Start(t, edit...)
	nc, js := natstest.Connect(t, s)
	ctx := testCtx(t)
	if err := EnsureStreams(ctx, js, site, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	return s, nc, js, kv
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startApplier catches the state bucket up with site's alarm stream and
// keeps it in step until the test ends.
func startApplier(t testing.TB, js jetstream.JetStream, kv jetstream.KeyValue, sites ...string) *StateApplier {
	t.Helper()
	ap := NewStateApplier(js, kv, DefaultConfig(), sites, nil)
	if err := ap.CatchUp(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := ap.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ap.Stop)
	return ap
}

// waitState waits until the state bucket satisfies ok.
func waitState(t testing.TB, kv jetstream.KeyValue, what string, ok func([]*Alarm) bool) []*Alarm {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, err := LoadState(testCtx(t), kv)
		if err == nil && ok(state) {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("state bucket: gave up waiting for %s: %v %v", what, state, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
