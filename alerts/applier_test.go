package alerts

import (
	"context"
	"testing"
)

// A transition stored in the stream whose state write was lost (the
// monitor killed between the two) is in the bucket after the next
// start's CatchUp, before anything is restored from it.
func TestCatchUpAppliesWhatTheBucketMissed(t *testing.T) {
	_, _, js, kv := setup(t, "main")
	ctx := testCtx(t)
	first := NewStateApplier(js, kv, DefaultConfig(), []string{"main"}, nil)
	if err := first.CatchUp(ctx); err != nil { // first start: creates the consumer
		t.Fatal(err)
	}
	p := NewPublisher(js, nil, PublisherOptions{}, nil)
	// Stream only, as if killed before the state was written.
	if _, err := p.publishStream(ctx, FromTransition(firingTransition()), ""); err != nil {
		t.Fatal(err)
	}
	if s, _ := LoadState(ctx, kv); len(s) != 0 {
		t.Fatalf("bucket holds %d alarms before catch-up", len(s))
	}
	second := NewStateApplier(js, kv, DefaultConfig(), []string{"main"}, nil)
	if err := second.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := LoadState(ctx, kv)
	if err != nil || len(s) != 1 || s[0].State != Firing {
		t.Fatalf("after catch-up: %v %v", s, err)
	}
	// Applying it again (the consumer redelivers it) changes nothing,
	// and the resolution follows.
	if err := second.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	if _, err := p.publishStream(ctx, FromTransition(resolvedTransition()), ""); err != nil {
		t.Fatal(err)
	}
	waitState(t, kv, "the resolution", func(s []*Alarm) bool { return len(s) == 1 && s[0].State == Resolved })
}
