package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stored is an entry as read back, with its stream sequence.
type Stored struct {
	Seq   uint64
	Entry Entry
	// Raw is the message as stored; Bad is set when it did not decode.
	Raw []byte
	Bad error
}

// Problem is the first entry where the chain breaks.
type Problem struct {
	Seq    uint64 // stream sequence of the entry where the break shows
	N      uint64 // its index in the chain (0 when it did not decode)
	Reason string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("audit chain broken at stream seq %d (entry %d): %s", p.Seq, p.N, p.Reason)
}

// Check verifies a chain read in stream order and returns the first
// problem, nil when every entry is in place and unaltered.
func Check(entries []Stored) *Problem {
	var prev Entry
	for i, s := range entries {
		e := s.Entry
		switch {
		case s.Bad != nil:
			return &Problem{Seq: s.Seq, Reason: "not an audit entry: " + s.Bad.Error()}
		case e.Schema != Schema:
			return &Problem{Seq: s.Seq, N: e.N, Reason: fmt.Sprintf("schema %q, want %s", e.Schema, Schema)}
		case e.Hash != e.Sum():
			return &Problem{Seq: s.Seq, N: e.N, Reason: fmt.Sprintf("altered: its hash does not match its content (%s by %s at %s)", e.Action, e.Actor, e.At.Format(time.RFC3339))}
		case i == 0 && e.N != 1:
			return &Problem{Seq: s.Seq, N: e.N, Reason: fmt.Sprintf("removed: the chain starts at entry %d, entries 1 to %d are missing", e.N, e.N-1)}
		case i > 0 && e.N != prev.N+1:
			return &Problem{Seq: s.Seq, N: e.N, Reason: fmt.Sprintf("removed: entry %d follows entry %d, entries %d to %d are missing", e.N, prev.N, prev.N+1, e.N-1)}
		case e.Prev != prev.Hash:
			return &Problem{Seq: s.Seq, N: e.N, Reason: fmt.Sprintf("altered: entry %d does not carry the hash of entry %d before it", e.N, prev.N)}
		}
		prev = e
	}
	return nil
}

// Read returns every entry of the audit stream in order.
func Read(ctx context.Context, js jetstream.JetStream) ([]Stored, error) {
	s, err := js.Stream(ctx, Stream)
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: %w", Stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: info: %w", Stream, err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: consumer: %w", Stream, err)
	}
	var out []Stored
	for uint64(len(out)) < info.State.Msgs {
		// Ask for exactly what is left, so the fetch ends with the
		// last message and leaves nothing waiting.
		want := int(min(info.State.Msgs-uint64(len(out)), 500))
		batch, err := c.Fetch(want, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("audit stream %s: fetch: %w", Stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("audit stream %s: metadata: %w", Stream, err)
			}
			st := Stored{Seq: md.Sequence.Stream, Raw: m.Data()}
			if err := json.Unmarshal(m.Data(), &st.Entry); err != nil {
				st.Bad = err
			}
			out = append(out, st)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("audit stream %s: fetch: %w", Stream, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("audit stream %s: read %d of %d entries: no more arrive", Stream, len(out), info.State.Msgs)
		}
	}
	return out, nil
}

// Verify reads the audit stream and checks its chain. It returns the
// number of entries and the first problem (a *Problem) or read error.
func Verify(ctx context.Context, js jetstream.JetStream) (int, error) {
	entries, err := Read(ctx, js)
	if err != nil {
		return 0, err
	}
	if p := Check(entries); p != nil {
		return len(entries), p
	}
	return len(entries), nil
}
