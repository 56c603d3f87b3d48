package patrol

import (
	"context"
	"net/http"
	"net/url"
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

// TestIncidentReport: an incident is opened once, published, and its
// report is signed once.
func TestIncidentReport(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := e.nc.SubscribeSync(IncidentSubjectPrefix + ".>")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	kv, _ := e.js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	// On battery for 40 min of room1's 1 h carry time: beyond half.
	started := scenarioNow.Add(-40 * time.Minute)
	a := &alerts.Alarm{Schema: alerts.Schema, V: alerts.V, Fingerprint: "batt1", ID: alerts.OccurrenceID("batt1", started), Rule: "ups-on-battery",
		Severity: alerts.Critical, State: alerts.Firing, Site: "main", Room: "room1", Device: "ups1", ActiveAt: started, StartedAt: started, UpdatedAt: started}
	if _, err := alerts.StoreState(ctx, kv, a); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.srv.check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.srv.incidents(ctx)
	if err != nil || len(list) != 1 || list[0].Class != "mains-long" || !list[0].Deadline.Equal(scenarioNow.Add(time.Hour)) || !list[0].HospitalDeadline.Equal(scenarioNow.Add(24*time.Hour)) {
		t.Fatalf("incidents: %+v %v", list, err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("incident not published: %v", err)
	}
	c := client(t)
	httpLogin(t, c, e.url, "oper1")
	u := e.url + "/incident/main/" + a.ID + "/report"
	form := url.Values{"summary": {"02:10 市电中断，UPS 供电 40 分钟"}, "cause": {"供电局线路检修"}, "measures": {"启动柴油发电机"}}
	if st, body := post(t, c, u, form); st != http.StatusSeeOther {
		t.Fatalf("report: %d %.300s", st, body)
	}
	if st, _ := post(t, c, u, form); st != http.StatusConflict {
		t.Fatalf("second report: %d, want 409", st)
	}
	list, _ = e.srv.incidents(ctx)
	if list[0].Report == nil || list[0].Report.ByName != "张三" {
		t.Fatalf("report stored: %+v", list[0].Report)
	}
}
