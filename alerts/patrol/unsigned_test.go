package patrol

import (
	"context"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
)

// TestUnsignedPatrolAlarm: past 10:00 on a working day an unsigned room
// raises an alarm like any other (stream and state bucket); signing
// resolves it.
func TestUnsignedPatrolAlarm(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := e.js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	state := func(room string) *alerts.Alarm {
		en, err := kv.Get(ctx, alerts.StateKey("main", unsignedFingerprint("main", room)))
		if err != nil {
			return nil
		}
		a, _ := alerts.Unmarshal(en.Value())
		return a
	}
	if err := e.srv.check(ctx); err != nil {
		t.Fatal(err)
	}
	if a := state("room1"); a != nil {
		t.Fatalf("alarm before the deadline: %+v", a)
	}
	e.clock.Set(scenarioDay.Add(10*time.Hour + 5*time.Minute))
	if err := e.srv.check(ctx); err != nil {
		t.Fatal(err)
	}
	a := state("room2")
	if a == nil || a.State != alerts.Firing || a.Rule != RuleUnsigned || a.Severity != alerts.Major || a.Message("zh") != "网络间 今日巡检未在 10:00 前签名" {
		t.Fatalf("room2 alarm: %+v", a)
	}
	st, err := e.js.Stream(ctx, "ROOMWATCH_ALARMS_main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "roomwatch.alarm.main.room2.major"); err != nil {
		t.Fatalf("alarm not on the stream: %v", err)
	}
	so := &Signoff{Site: "main", Room: "room2", Date: scenarioDay.Format(time.DateOnly), By: "oper1", ByName: "张三", At: e.clock.Now()}
	if err := e.srv.store.Sign(ctx, so); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.check(ctx); err != nil {
		t.Fatal(err)
	}
	if a := state("room2"); a == nil || a.State != alerts.Resolved {
		t.Fatalf("room2 after signing: %+v", a)
	}
	if a := state("room1"); a == nil || a.State != alerts.Firing {
		t.Fatalf("room1 (unsigned): %+v", a)
	}
	// Checked again: no second occurrence for the same day.
	if err := e.srv.check(ctx); err != nil {
		t.Fatal(err)
	}
	if a := state("room2"); a.State != alerts.Resolved {
		t.Fatalf("room2 fired again: %+v", a)
	}
}
