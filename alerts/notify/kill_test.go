package notify

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
)

// TestKillMidStorm: two notifier instances share a storm of 100 alarms to
// two people over the real HTTP SMS gateway channel to a local sink; one
// instance, a child process, is killed with -9 in the middle of a send. Every alarm reaches every person exactly once.
func TestKillMidStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	e := newEnv(t)
	const alarms = 100
	killed := make(chan struct{})
	var holdOnce sync.Once
	held := make(chan struct{})
	sk := &sink{counts: map[string]int{}}
	childSends := 0
	var mu sync.Mutex
	sk.hold = func(p posted) bool {
		if p.Instance != "child" {
			return true
		}
		mu.Lock()
		childSends++
		n := childSends
		mu.Unlock()
		if n < 15 {
			return true
		}
		// The child's 15th send: hold it unanswered, kill the child, and
		// drop it (a request never answered was not accepted).
		holdOnce.Do(func() { close(held) })
		<-killed
		return false
	}
	hs := httptest.NewServer(sk)
	defer hs.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1", "NATS_URL="+e.srv.ClientURL(), "SINK_URL="+hs.URL)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	}()
	if line, _ := bufio.NewReader(out).ReadString('\n'); !strings.Contains(line, "started") {
		t.Fatalf("child: %q", line)
	}

	c := DefaultConfig()
	if _, err := yamlDecode(killYAML(hs.URL, "parent"), &c); err != nil {
		t.Fatal(err)
	}
	e.start(t, &c, nil, "parent")

	for i := range alarms {
		e.fire(t, i, alerts.Major, "storm")
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the child never sent 15 messages")
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(killed)

	waitFor(t, 60*time.Second, "every alarm at both people", func() bool {
		counts, _ := sk.snapshot()
		return len(counts) == 2*alarms
	})
	// Anything sent twice would arrive within a claim lease and an ack
	// wait of the last send; the sent bucket says when nothing is left.
	waitFor(t, 30*time.Second, "no claim left open", func() bool { return openClaims(t, e) == 0 })
	counts, msgs := sk.snapshot()
	for i := range alarms {
		for _, p := range []string{"张三", "李四"} {
			if n := counts[fmt.Sprintf("%s/alarm-%d", p, i)]; n != 1 {
				t.Errorf("%s told of alarm-%d %d times", p, i, n)
			}
		}
	}
	mu.Lock()
	t.Logf("%d messages: %d from the child before the kill, the rest from the parent", msgs, childSends-1)
	mu.Unlock()
}

// openClaims counts keys of the sent bucket still claimed (not marked).
func openClaims(t testing.TB, e *env) int {
	kv, err := e.js.KeyValue(t.Context(), SentBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(t.Context())
	if err != nil {
		return -1
	}
	open := 0
	for _, k := range keys {
		v, err := kv.Get(t.Context(), k)
		if err != nil {
			return -1
		}
		var c claim
		if unmarshal(v.Value(), &c) != nil || c.State == claimClaimed {
			open++
		}
	}
	return open
}
