package alerts

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

const onBatteryRule = `
rules:
  - name: ups-on-battery
    severity: critical
    match: {class: ups}
    condition: on_battery
    values: [runtime_min]
    message:
      zh: "{{.Room}} {{.Device}} 市电中断"
      en: "{{.Room}} {{.Device}} mains lost"
`

func upsSample(at time.Time, onBatt bool) collectors.SampleSet {
	b := 0.0
	if onBatt {
		b = 1
	}
	return collectors.SampleSet{
		Device: collectors.Device{Site: "main", Room: "room1", Name: "ups1", Profile: "rfc1628-ups", Class: "ups"},
		Time:   at,
		Values: []collectors.Value{
			{Name: "on_battery", Kind: collectors.Bool, Num: b},
			{Name: "runtime_min", Unit: "min", Kind: collectors.Number, Num: 42},
		},
	}
}

func nextAlarm(t *testing.T, sub *nats.Subscription) *Alarm {
	t.Helper()
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("no alarm message: %v", err)
	}
	a, err := Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRestartWhileFiring runs the real rules engine into the publisher,
// restarts both while an alarm fires, and checks that the alarm is neither
// announced again nor left unresolved.
func TestRestartWhileFiring(t *testing.T) {
	_, nc, js, kv := setup(t, "main")
	ctx := testCtx(t)
	rs, err := rules.Parse("rules.yaml", []byte(onBatteryRule))
	if err != nil {
		t.Fatal(err)
	}
	inv := rules.Inventory{Sites: []rules.Site{{Name: "main", Rooms: []rules.Room{{Name: "room1",
		Devices: []rules.DeviceInfo{{Device: upsSample(t0, false).Device, Interval: 10 * time.Second}}}}}}}
	sub, err := nc.SubscribeSync("roomwatch.alarm.main.>")
	if err != nil {
		t.Fatal(err)
	}
	startApplier(t, js, kv, "main")

	// First run: mains lost.
	p1 := NewPublisher(js, kv, PublisherOptions{}, nil)
	p1.Start(ctx)
	e1, err := rules.NewEngine(rs, inv, p1.Handle)
	if err != nil {
		t.Fatal(err)
	}
	e1.Eval(t0, upsSample(t0, false))
	e1.Eval(t0.Add(10*time.Second), upsSample(t0.Add(10*time.Second), true))
	firing := nextAlarm(t, sub)
	if firing.State != Firing || firing.Rule != "ups-on-battery" || firing.Text["zh"] == "" {
		t.Fatalf("first message %+v", firing)
	}
	if err := p1.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Second run: the new process may publish the last transition again
	// (it did not know it was acknowledged): stored once.
	p2 := NewPublisher(js, kv, PublisherOptions{}, nil)
	if ack, err := p2.Publish(ctx, firing.Clone()); err != nil || !ack.Duplicate {
		t.Fatalf("re-publish: %+v %v", ack, err)
	}
	// A plain subscriber sees the duplicate too; the stream (and every
	// JetStream consumer) holds it once.
	if dup := nextAlarm(t, sub); dup.MsgID() != firing.MsgID() {
		t.Fatalf("unexpected message %s", dup.MsgID())
	}
	state := waitState(t, kv, "the firing alarm", func(s []*Alarm) bool { return len(s) == 1 && s[0].State == Firing })
	p2.Start(ctx)
	e2, err := rules.NewEngine(rs, inv, p2.Handle)
	if err != nil {
		t.Fatal(err)
	}
	e2.Restore(RestoreAlerts(state, "main"))
	e2.Eval(t0.Add(20*time.Second), upsSample(t0.Add(20*time.Second), true))  // still on battery: silent
	e2.Eval(t0.Add(30*time.Second), upsSample(t0.Add(30*time.Second), false)) // mains back
	resolved := nextAlarm(t, sub)
	if resolved.State != Resolved || resolved.ID != firing.ID || resolved.EndedAt == nil {
		t.Fatalf("after restart got %s %s, want the resolution of %s", resolved.State, resolved.ID, firing.ID)
	}
	if err := p2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// A second "firing" would be a message with another start time.
	if n := streamMsgs(t, js, "main"); n != 2 {
		t.Errorf("stream holds %d alarm messages, want firing + resolution", n)
	}
	cons, err := js.OrderedConsumer(ctx, AlarmStreamName(DefaultConfig().StreamPrefix, "main"), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		a, err := Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.MsgID())
	}
	if len(got) != 2 || got[0] != firing.MsgID() || got[1] != resolved.MsgID() {
		t.Errorf("stream messages %v", got)
	}
	waitState(t, kv, "the resolution", func(s []*Alarm) bool { return len(s) == 1 && s[0].State == Resolved })
}
