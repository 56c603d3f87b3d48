package alerts

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type applied struct {
	k   *Ack
	a   *Alarm
	err error
}

// The monitor applies acknowledgements from ROOMWATCH_ACKS: of a firing
// alarm (acknowledged), of one that resolved meanwhile (stays resolved,
// with who acknowledged, in a message of its own), and drops one of an
// unknown alarm.
func TestAckApplier(t *testing.T) {
	_, nc, js, kv := setup(t, "main")
	ctx := testCtx(t)
	startApplier(t, js, kv, "main")
	p := NewPublisher(js, kv, PublisherOptions{}, nil)
	got := make(chan applied, 4)
	ap := NewAckApplier(js, kv, p, []string{"main"}, nil)
	ap.Applied = func(k *Ack, a *Alarm, err error) { got <- applied{k, a, err} }
	if err := ap.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ap.Stop()
	sub, err := nc.SubscribeSync("roomwatch.alarm.main.>")
	if err != nil {
		t.Fatal(err)
	}
	next := func() applied {
		t.Helper()
		select {
		case x := <-got:
			return x
		case <-ctx.Done():
			t.Fatal("acknowledgement not applied")
		}
		return applied{}
	}

	f := FromTransition(firingTransition())
	if _, err := p.Publish(ctx, f.Clone()); err != nil {
		t.Fatal(err)
	}
	nextAlarm(t, sub)
	at := fired.Add(time.Minute)
	if _, err := PublishAck(ctx, js, Ack{AlarmID: f.ID, Site: "main", Room: "room1", By: "张三", Via: AckViaSMS, Comment: "收到", At: at}); err != nil {
		t.Fatal(err)
	}
	if x := next(); x.err != nil || x.a.State != Acknowledged || x.a.AckVia != AckViaSMS {
		t.Fatalf("applied %+v", x)
	}
	if m := nextAlarm(t, sub); m.State != Acknowledged || m.AckBy != "张三" || m.AckNote != "收到" || !m.AckAt.Equal(at) {
		t.Errorf("acknowledged message %+v", m)
	}

	// Another occurrence resolves before anyone acknowledges it.
	tr := firingTransition()
	tr.Alert.FiredAt = fired.Add(time.Hour)
	f2 := FromTransition(tr)
	r2 := f2.Clone()
	r2.Resolve(fired.Add(2 * time.Hour))
	for _, x := range []*Alarm{f2, r2} {
		if _, err := p.Publish(ctx, x.Clone()); err != nil {
			t.Fatal(err)
		}
		nextAlarm(t, sub)
	}
	if _, err := PublishAck(ctx, js, Ack{AlarmID: f2.ID, Site: "main", Room: "room1", By: "李四", Via: AckViaPatrol, At: fired.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if x := next(); x.err != nil || x.a.State != Resolved || x.a.AckBy != "李四" {
		t.Fatalf("applied %+v", x)
	}
	if m := nextAlarm(t, sub); m.State != Resolved || m.AckBy != "李四" || m.AckVia != AckViaPatrol {
		t.Errorf("acknowledgement of a resolved alarm: %+v", m)
	}
	// An alarm the bucket does not know is dropped.
	if _, err := PublishAck(ctx, js, Ack{AlarmID: "nope-20260101T000000.000000000Z", Site: "main", Room: "room1", By: "王五", Via: AckViaCLI, At: at}); err != nil {
		t.Fatal(err)
	}
	if x := next(); !errors.Is(x.err, jetstream.ErrKeyNotFound) {
		t.Errorf("ack of an unknown alarm: %v", x.err)
	}
	waitState(t, kv, "the acknowledged resolution", func(s []*Alarm) bool {
		return len(s) == 1 && s[0].ID == f2.ID && s[0].State == Resolved && s[0].AckBy == "李四"
	})
}
