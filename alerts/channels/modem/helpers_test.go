package modem

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newModem is a modem channel on the simulator's port, closed when t
// ends; edit changes the configuration first.
func newModem(t testing.TB, s *modemsim.Sim, edit ...func(*Config)) *Modem {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Port = s.Path()
	for _, e := range edit {
		e(&cfg)
	}
	m, err := New("sms", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// receive runs m.Receive until t ends and returns what it hands over.
func receive(t testing.TB, m *Modem) <-chan channels.Inbound {
	t.Helper()
	ch := make(chan channels.Inbound, 32)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.Receive(ctx, func(in channels.Inbound) { ch <- in }); err != nil {
			t.Errorf("Receive: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return ch
}

// next waits for the next inbound message, at most 30 s.
func next(t testing.TB, ch <-chan channels.Inbound) channels.Inbound {
	t.Helper()
	select {
	case in := <-ch:
		return in
	case <-time.After(30 * time.Second):
		t.Fatal("nothing received in 30s")
		return channels.Inbound{}
	}
}

// ctx30 is a context for a step that must not take more than 30 s.
func ctx30(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// to is a message for one person.
func to(id, text, mobile string) *channels.Message {
	return &channels.Message{ID: id, Severity: "critical", Text: text, To: []channels.Recipient{{Name: "张三", Mobile: mobile}}}
}
