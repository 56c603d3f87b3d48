package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts/natstest"
	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/rules"
)

var (
	t0      = time.Date(2026, 11, 25, 2, 14, 33, 0, time.UTC)
	fired   = t0.Add(30 * time.Second)
	cleared = t0.Add(25 * time.Minute)
)

// onBattery returns the engine's alert for "ups1 on battery" in room1.
func onBattery() rules.Alert {
	return rules.Alert{
		Rule:        "ups-on-battery",
		Fingerprint: "fp-ups1-onbatt",
		Labels: map[string]string{
			rules.LabelSite: "main", rules.LabelRoom: "room1", rules.LabelDevice: "ups1",
			rules.LabelProfile: "rfc1628-ups", rules.LabelClass: "ups", rules.LabelRule: "ups-on-battery",
		},
		Severity: rules.Critical,
		ActiveAt: t0,
		Values: map[string]collectors.Value{
			"on_battery":  {Name: "on_battery", Kind: collectors.Bool, Num: 1},
			"runtime_min": {Name: "runtime_min", Unit: "min", Num: 42},
		},
		Thresholds: map[string]float64{"carry_time_min": 360},
		Text:       map[string]string{"zh": "一号机房 UPS1 市电中断，电池供电", "en": "Room 1 UPS1 on battery"},
	}
}

func firingTransition() rules.Transition {
	al := onBattery()
	al.State, al.FiredAt = rules.Firing, fired
	return rules.Transition{Alert: al, From: rules.Pending, To: rules.Firing, At: fired}
}

func resolvedTransition() rules.Transition {
	al := onBattery()
	al.State, al.FiredAt, al.ResolvedAt = rules.Inactive, fired, cleared
	al.Values["on_battery"] = collectors.Value{Name: "on_battery", Kind: collectors.Bool, Num: 0}
	al.Text = map[string]string{"zh": "一号机房 UPS1 市电恢复", "en": "Room 1 UPS1 mains restored"}
	return rules.Transition{Alert: al, From: rules.Firing, To: rules.Inactive, At: cleared}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, site string) uint64 {
	t.Helper()
	st, err := js.Stream(testCtx(t), AlarmStreamName(DefaultConfig().StreamPrefix, site))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestPublishFiringThenResolved(t *testing.T) {
	_, nc, js, kv := setup(t, "main")
	ctx := testCtx(t)
	sub, err := nc.SubscribeSync("roomwatch.alarm.main.>")
	if err != nil {
		t.Fatal(err)
	}
	p := NewPublisher(js, kv, PublisherOptions{}, nil)
	for _, tr := range []rules.Transition{firingTransition(), resolvedTransition()} {
		if _, err := p.Publish(ctx, FromTransition(tr)); err != nil {
			t.Fatal(err)
		}
	}
	var got []*Alarm
	for range 2 {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "roomwatch.alarm.main.room1.critical" {
			t.Errorf("subject %q", m.Subject)
		}
		a, err := Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if h := m.Header.Get(jetstream.MsgIDHeader); h != a.MsgID() {
			t.Errorf("Nats-Msg-Id %q, want %q", h, a.MsgID())
		}
		// The wire form must carry the documented field names.
		var raw map[string]any
		if err := json.Unmarshal(m.Data, &raw); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"schema", "v", "id", "fingerprint", "rule", "severity", "state", "site", "room", "device", "values", "thresholds", "started_at", "updated_at", "text"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("message lacks %q: %s", k, m.Data)
			}
		}
		got = append(got, a)
	}
	f, r := got[0], got[1]
	if f.State != Firing || r.State != Resolved {
		t.Fatalf("states %s, %s; want firing, resolved", f.State, r.State)
	}
	if f.ID != r.ID || f.MsgID() == r.MsgID() {
		t.Errorf("ids: firing %s/%s resolved %s/%s: want same id, different msg ids", f.ID, f.MsgID(), r.ID, r.MsgID())
	}
	if !f.StartedAt.Equal(fired) || f.EndedAt != nil || f.Severity != Critical || f.Device != "ups1" {
		t.Errorf("firing message %+v", f)
	}
	if r.EndedAt == nil || !r.EndedAt.Equal(cleared) || !r.StartedAt.Equal(fired) {
		t.Errorf("resolved message started %v ended %v", r.StartedAt, r.EndedAt)
	}
	if f.Values["runtime_min"] != (Reading{Value: 42, Unit: "min"}) || f.Thresholds["carry_time_min"] != 360 {
		t.Errorf("values %v thresholds %v", f.Values, f.Thresholds)
	}
	if f.Text["zh"] == "" || f.Text["en"] == "" || r.Text["zh"] != "一号机房 UPS1 市电恢复" {
		t.Errorf("texts %v / %v", f.Text, r.Text)
	}
	if n := streamMsgs(t, js, "main"); n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}
}

func TestRepublishAfterRestartIsStoredOnce(t *testing.T) {
	_, _, js, kv := setup(t, "main")
	ctx := testCtx(t)
	first := NewPublisher(js, kv, PublisherOptions{}, nil)
	ack, err := first.Publish(ctx, FromTransition(firingTransition()))
	if err != nil || ack.Duplicate {
		t.Fatalf("first publish: %+v %v", ack, err)
	}
	// A new monitor process publishes the same transition again.
	second := NewPublisher(js, kv, PublisherOptions{}, nil)
	ack2, err := second.Publish(ctx, FromTransition(firingTransition()))
	if err != nil {
		t.Fatal(err)
	}
	if !ack2.Duplicate || ack2.Sequence != ack.Sequence {
		t.Errorf("re-publish ack %+v, want duplicate of seq %d", ack2, ack.Sequence)
	}
	if n := streamMsgs(t, js, "main"); n != 1 {
		t.Errorf("stream holds %d messages after re-publish, want 1", n)
	}
	if _, err := second.Publish(ctx, FromTransition(resolvedTransition())); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Publish(ctx, FromTransition(resolvedTransition())); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, js, "main"); n != 2 {
		t.Errorf("stream holds %d messages, want firing + resolution = 2", n)
	}
	if s := second.Stats(); s.Published != 1 || s.Duplicates != 2 {
		t.Errorf("stats %+v, want 1 published, 2 duplicates", s)
	}
}

func TestStateLoadsBackForRestore(t *testing.T) {
	_, _, js, kv := setup(t, "main")
	ctx := testCtx(t)
	p := NewPublisher(js, kv, PublisherOptions{}, nil)
	if _, err := p.Publish(ctx, FromTransition(firingTransition())); err != nil {
		t.Fatal(err)
	}
	state, err := LoadState(ctx, kv)
	if err != nil || len(state) != 1 {
		t.Fatalf("LoadState: %d alarms, %v", len(state), err)
	}
	restore := RestoreAlerts(state, "main")
	if len(restore) != 1 {
		t.Fatalf("restore %d alerts, want 1", len(restore))
	}
	al := restore[0]
	want := onBattery()
	if al.State != rules.Firing || !al.FiredAt.Equal(fired) || !al.ActiveAt.Equal(t0) || al.Fingerprint != want.Fingerprint ||
		al.Severity != rules.Critical || al.Labels[rules.LabelDevice] != "ups1" || al.Values["runtime_min"].Num != 42 {
		t.Errorf("restored alert %+v", al)
	}
	if got := RestoreAlerts(state, "other-site"); len(got) != 0 {
		t.Errorf("restore for another site: %d alerts", len(got))
	}

	// Someone acknowledges, then the monitor resolves: the
	// acknowledgement stays on the record.
	ackAt := fired.Add(2 * time.Minute)
	acked, err := Acknowledge(ctx, kv, StateKey("main", "fp-ups1-onbatt"), "张三", "已到机房", ackAt)
	if err != nil || acked.State != Acknowledged {
		t.Fatalf("acknowledge: %+v %v", acked, err)
	}
	if _, err := Acknowledge(ctx, kv, StateKey("main", "fp-ups1-onbatt"), "李四", "", ackAt); !errors.Is(err, ErrAcknowledged) {
		t.Errorf("second acknowledge: %v, want ErrAcknowledged", err)
	}
	if _, err := p.Publish(ctx, FromTransition(resolvedTransition())); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, AlarmStreamName(DefaultConfig().StreamPrefix, "main"))
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.GetLastMsgForSubject(ctx, "roomwatch.alarm.main.room1.critical")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := Unmarshal(last.Data); err != nil || m.State != Resolved || m.AckBy != "张三" {
		t.Errorf("resolved message %+v %v: want it to name who acknowledged", m, err)
	}
	state, err = LoadState(ctx, kv)
	if err != nil || len(state) != 1 {
		t.Fatalf("LoadState: %d alarms, %v", len(state), err)
	}
	if a := state[0]; a.State != Resolved || a.AckBy != "张三" || a.AckAt == nil || !a.AckAt.Equal(ackAt) {
		t.Errorf("after resolution: state %s ack %q %v", a.State, a.AckBy, a.AckAt)
	}
	if got := RestoreAlerts(state, ""); len(got) != 0 {
		t.Errorf("resolved alarm restored as %d active alerts", len(got))
	}
	// A late re-publish of the old firing message must not bring it back.
	if _, err := p.Publish(ctx, FromTransition(firingTransition())); err != nil {
		t.Fatal(err)
	}
	state, _ = LoadState(ctx, kv)
	if len(state) != 1 || state[0].State != Resolved {
		t.Errorf("late firing overwrote the resolution: %+v", state)
	}
}

func TestLoadStateSkipsDamagedEntries(t *testing.T) {
	_, _, _, kv := setup(t, "main")
	ctx := testCtx(t)
	if a, err := LoadState(ctx, kv); err != nil || len(a) != 0 {
		t.Fatalf("empty bucket: %v %v", a, err)
	}
	if _, err := kv.Put(ctx, "main.bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := StoreState(ctx, kv, FromTransition(firingTransition())); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(ctx, kv)
	if len(got) != 1 || err == nil || !strings.Contains(err.Error(), "main.bad") {
		t.Errorf("got %d alarms, err %v; want 1 and an error naming main.bad", len(got), err)
	}
}

// Handle (what the rules engine calls) returns once JetStream stored the
// alarms, in order; the applier brings the state bucket along.
func TestHandleStoresBeforeReturning(t *testing.T) {
	_, nc, js, kv := setup(t, "main")
	startApplier(t, js, kv, "main")
	sub, err := nc.SubscribeSync("roomwatch.alarm.>")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []State
	p := NewPublisher(js, kv, PublisherOptions{OnAck: func(a *Alarm, ack *jetstream.PubAck, lat time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		acked = append(acked, a.State)
		if lat < 0 {
			t.Errorf("negative latency %v", lat)
		}
	}}, nil)
	p.Start(context.Background())
	pending := firingTransition()
	pending.From, pending.To = rules.Inactive, rules.Pending
	p.Handle([]rules.Transition{pending, firingTransition(), resolvedTransition()})
	// Stored before Handle returned: no waiting.
	if n := streamMsgs(t, js, "main"); n != 2 {
		t.Fatalf("after Handle the stream holds %d messages, want 2", n)
	}
	mu.Lock()
	if len(acked) != 2 || acked[0] != Firing || acked[1] != Resolved {
		t.Errorf("OnAck saw %v", acked)
	}
	mu.Unlock()
	for _, want := range []State{Firing, Resolved} {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Unmarshal(m.Data)
		if err != nil || a.State != want {
			t.Fatalf("got %v %v, want %s", a, err, want)
		}
	}
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Enqueued != 2 || s.Published != 2 || s.Dropped != 0 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
	waitState(t, kv, "the resolution", func(s []*Alarm) bool { return len(s) == 1 && s[0].State == Resolved })
}

// Handle falls back to the publishing goroutine when JetStream does not
// store an alarm within SyncTimeout, and keeps the order of the alarms
// handed over meanwhile.
func TestHandleQueuesWhenJetStreamIsSlow(t *testing.T) {
	s := runNATS(t)
	_, js := natstest.Connect(t, s)
	ctx := testCtx(t)
	acked := make(chan State, 2)
	p := NewPublisher(js, nil, PublisherOptions{SyncTimeout: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		OnAck: func(a *Alarm, _ *jetstream.PubAck, _ time.Duration) { acked <- a.State }}, nil)
	p.Start(ctx)
	p.Handle([]rules.Transition{firingTransition()}) // no stream yet
	if st := p.Stats(); st.Retries == 0 || st.Published != 0 {
		t.Fatalf("stats %+v: want the alarm queued for retry", st)
	}
	p.Handle([]rules.Transition{resolvedTransition()}) // must not overtake the firing
	if err := EnsureStreams(ctx, js, "main", DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []State{Firing, Resolved} {
		select {
		case got := <-acked:
			if got != want {
				t.Fatalf("stored %s, want %s", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("%s never stored", want)
		}
	}
	if n := streamMsgs(t, js, "main"); n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPublisherRetriesUntilStreamExists(t *testing.T) {
	s := runNATS(t)
	_, js := natstest.Connect(t, s)
	ctx := testCtx(t)
	got := make(chan *Alarm, 1)
	p := NewPublisher(js, nil, PublisherOptions{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		OnAck: func(a *Alarm, _ *jetstream.PubAck, _ time.Duration) { got <- a }}, nil)
	p.Start(ctx)
	p.Enqueue(FromTransition(firingTransition()))
	// Wait until the publisher has failed at least once, then create
	// the stream: the queued alarm must arrive.
	testutil.Eventually(t, 20*time.Second, "a failed publish retried", func() (bool, string) { return p.Stats().Retries > 0, "" })
	if err := EnsureStreams(ctx, js, "main", DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.State != Firing {
			t.Errorf("state %s", a.State)
		}
	case <-ctx.Done():
		t.Fatal("alarm not published after the stream appeared")
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueDropsOldestWhenFull(t *testing.T) {
	p := NewPublisher(nil, nil, PublisherOptions{QueueSize: 2}, nil)
	for i := range 3 {
		a := FromTransition(firingTransition())
		a.Fingerprint = string(rune('a' + i))
		p.Enqueue(a)
	}
	if s := p.Stats(); s.Dropped != 1 || s.Enqueued != 3 {
		t.Errorf("stats %+v, want 1 dropped of 3", s)
	}
	if first := <-p.queue; first.a.Fingerprint != "b" {
		t.Errorf("oldest kept is %q, want b (a dropped)", first.a.Fingerprint)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Stop(ctx); err == nil {
		t.Error("Stop with alarms never published: want an error")
	}
}

func TestStopGivesUpAtDeadline(t *testing.T) {
	s := runNATS(t)
	_, js := natstest.Connect(t, s) // no stream: publishing cannot succeed
	p := NewPublisher(js, nil, PublisherOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, nil)
	p.Start(context.Background())
	p.Enqueue(FromTransition(firingTransition()))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Stop(ctx)
	if err == nil {
		t.Fatal("Stop returned nil with an alarm unpublished")
	}
	if st := p.Stats(); st.Failed+uint64(len(p.queue)) != 1 {
		t.Errorf("stats %+v, queue %d: the alarm must be counted failed or still queued", st, len(p.queue))
	}
}

func TestListAndPrint(t *testing.T) {
	_, _, js, kv := setup(t, "main")
	ctx := testCtx(t)
	p := NewPublisher(js, kv, PublisherOptions{}, nil)
	warm := FromTransition(firingTransition())
	warm.Fingerprint, warm.Rule, warm.Severity, warm.Device = "fp-temp", "room-temperature-high", Minor, "th1"
	warm.Values = map[string]Reading{"temperature_c": {Value: 28.4, Unit: "°C"}}
	warm.Text = map[string]string{"zh": "一号机房 温度 28.4°C 过高", "en": "Room 1 temperature 28.4°C high"}
	warm.StartedAt = fired.Add(time.Hour)
	warm.ID = ""
	for _, a := range []*Alarm{FromTransition(firingTransition()), FromTransition(resolvedTransition()), warm} {
		if _, err := p.Publish(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	list, err := List(ctx, kv)
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %d alarms, %v", len(list), err)
	}
	if list[0].Fingerprint != "fp-temp" || list[1].State != Resolved {
		t.Errorf("order: %s (%s), %s (%s); want active first", list[0].Fingerprint, list[0].State, list[1].Fingerprint, list[1].State)
	}
	if a := ActiveOnly(list); len(a) != 1 || a[0].Fingerprint != "fp-temp" {
		t.Errorf("ActiveOnly: %v", a)
	}
	var zh, en bytes.Buffer
	loc := time.FixedZone("CST", 8*3600)
	if err := PrintTable(&zh, In(list, loc), "zh"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"级别", "次要", "告警中", "严重", "已恢复", "temperature_c=28.4°C", "一号机房 温度 28.4°C 过高", "2026-11-25 11:15:03"} {
		if !strings.Contains(zh.String(), want) {
			t.Errorf("zh table lacks %q:\n%s", want, zh.String())
		}
	}
	if err := PrintTable(&en, list, "en"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SEVERITY", "MINOR", "firing", "resolved", "Room 1 UPS1 mains restored"} {
		if !strings.Contains(en.String(), want) {
			t.Errorf("en table lacks %q:\n%s", want, en.String())
		}
	}
	var js1 bytes.Buffer
	if err := WriteJSON(&js1, list); err != nil {
		t.Fatal(err)
	}
	var back []*Alarm
	if err := json.Unmarshal(js1.Bytes(), &back); err != nil || len(back) != 2 || back[0].ID != list[0].ID {
		t.Errorf("JSON round trip: %v %v", back, err)
	}
	var empty bytes.Buffer
	_ = WriteJSON(&empty, nil)
	if strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("empty JSON %q, want []", empty.String())
	}
}

func TestEnsureStreamsIsIdempotentAndApplies(t *testing.T) {
	s := runNATS(t)
	_, js := natstest.Connect(t, s)
	ctx := testCtx(t)
	cfg := DefaultConfig()
	for range 2 {
		if err := EnsureStreams(ctx, js, "分院.east", cfg); err != nil {
			t.Fatal(err)
		}
	}
	cfg.MaxAge = 30 * 24 * time.Hour
	if err := EnsureStreams(ctx, js, "分院.east", cfg); err != nil {
		t.Fatal(err)
	}
	name := AlarmStreamName(cfg.StreamPrefix, "分院.east")
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.MaxAge != cfg.MaxAge || c.Duplicates != 2*time.Hour || c.Storage != jetstream.FileStorage ||
		len(c.Subjects) != 1 || c.Subjects[0] != "roomwatch.alarm.分院_east.>" || !c.DenyDelete {
		t.Errorf("stream config %+v", c)
	}
	for _, b := range []string{cfg.StateBucket, cfg.DailyBucket} {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Errorf("bucket %s: %v", b, err)
		}
	}
	if err := EnsureStreams(ctx, js, "", cfg); err == nil {
		t.Error("empty site accepted")
	}
}

func TestPublishRejectsInvalidAlarm(t *testing.T) {
	_, _, js, kv := setup(t, "main")
	p := NewPublisher(js, kv, PublisherOptions{}, nil)
	a := FromTransition(firingTransition())
	a.Severity = "urgent"
	_, err := p.Publish(testCtx(t), a)
	if err == nil || !strings.Contains(err.Error(), `severity "urgent"`) || !isPermanent(err) {
		t.Errorf("err %v, want a permanent error naming the severity", err)
	}
	var noResp = nats.ErrNoResponders
	if isPermanent(noResp) {
		t.Error("no responders must be retried")
	}
}
