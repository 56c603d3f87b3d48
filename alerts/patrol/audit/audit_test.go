package audit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/alerts/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTwoWritersOneChain: two logs (two screens) appending at once still
// make one unbroken chain.
func TestTwoWritersOneChain(t *testing.T) {
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, l := range []*Log{a, b} {
		wg.Go(func() {
			for range 20 {
				if _, err := l.Append(ctx, Entry{Actor: "oper1", Action: Tick, Site: "main"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n, err := Verify(ctx, js)
	if err != nil || n != 40 {
		t.Fatalf("verify: %d entries, %v", n, err)
	}
}

// TestCheck names the first removed or altered entry.
func TestCheck(t *testing.T) {
	var chain []Stored
	prev := ""
	for i := range 4 {
		e := Entry{Schema: Schema, N: uint64(i + 1), At: time.Unix(int64(i), 0).UTC(), Actor: "a", Action: Sign, Prev: prev}
		e.Hash = e.Sum()
		prev = e.Hash
		chain = append(chain, Stored{Seq: uint64(i + 1), Entry: e})
	}
	if p := Check(chain); p != nil {
		t.Fatal(p)
	}
	removed := append(append([]Stored{}, chain[:1]...), chain[2:]...)
	if p := Check(removed); p == nil || p.N != 3 || !strings.Contains(p.Reason, "removed") {
		t.Errorf("removed: %v", p)
	}
	if p := Check(chain[1:]); p == nil || p.N != 2 || !strings.Contains(p.Reason, "removed") {
		t.Errorf("head removed: %v", p)
	}
	altered := append([]Stored{}, chain...)
	altered[2].Entry.Actor = "mallory"
	if p := Check(altered); p == nil || p.N != 3 || !strings.Contains(p.Reason, "altered") {
		t.Errorf("altered: %v", p)
	}
	rehashed := append([]Stored{}, chain...)
	rehashed[1].Entry.Actor = "mallory"
	rehashed[1].Entry.Hash = rehashed[1].Entry.Sum()
	if p := Check(rehashed); p == nil || p.N != 3 || !strings.Contains(p.Reason, "altered") {
		t.Errorf("altered and rehashed: %v", p)
	}
}
