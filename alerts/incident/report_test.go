package incident

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
)

// deliver publishes a notification record as the notifier does.
func (f *fixture) deliver(a *alerts.Alarm, person string, at time.Time) {
	f.t.Helper()
	data, err := json.Marshal(alerts.Delivery{Schema: alerts.DeliverySchema, ID: "n-" + a.ID, AlarmIDs: []string{a.ID},
		Site: a.Site, Room: a.Room, Kind: "firing", Person: person, Channel: "sms", Result: alerts.DeliverySent, Attempt: 1, At: at})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.js.PublishMsg(f.ctx, &nats.Msg{Subject: alerts.DeliverySubject(a.Site, a.Room), Data: data}); err != nil {
		f.t.Fatal(err)
	}
}

func kinds(d *Draft) []string {
	var out []string
	for _, e := range d.Timeline {
		k := e.Kind
		if e.State != "" && e.Kind == EventAlarm {
			k += ":" + e.State
		}
		out = append(out, k)
	}
	return out
}

func TestDraftTimelineSignAndCorrect(t *testing.T) {
	f := setup(t, true)
	tr := f.tracker("")
	hot := f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	in := f.waitIncidents(1)[0]
	other := f.fire("room-temperature-critical", "room2", "th9", alerts.Critical, t0, nil) // another room: not in the report
	f.deliver(other, "李四", t0.Add(20*time.Second))
	f.deliver(hot, "张三", t0.Add(30*time.Second))
	if _, err := alerts.PublishAck(f.ctx, f.js, alerts.Ack{AlarmID: hot.ID, Fingerprint: hot.Fingerprint, Site: "main", Room: "room1",
		By: "张三", Via: alerts.AckViaSMS, Comment: "已到机房", At: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	f.resolve(hot, t0.Add(40*time.Minute))
	eventually(t, "incident resolved", func() bool {
		in, _ = f.store.Get(f.ctx, "main", in.ID)
		return in.ResolvedAt != nil
	})
	_ = tr

	d, err := f.store.Draft(f.ctx, "main", in.ID, alerts.Config{}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alarm:firing", "opened", "notification", "ack", "alarm:resolved", "resolved"}
	if got := kinds(d); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("timeline %v, want %v", got, want)
	}
	if e := d.Timeline[2]; e.Who != "张三" || e.Channel != "sms" || e.AlarmID != hot.ID {
		t.Errorf("notification %+v", e)
	}
	if e := d.Timeline[3]; e.Who != "张三" || !strings.Contains(e.Text["zh"], "已到机房") {
		t.Errorf("ack %+v", e)
	}
	if len(d.Missing) != 1 || !strings.HasPrefix(d.Missing[0], "daily record 2026-12-01") {
		t.Errorf("missing %v, want the daily record only", d.Missing)
	}
	md := d.Markdown("zh", shanghai)
	for _, s := range []string{"# 事件报告：一号机房「机房温度超过关机温度」", "02:15:00", "通知 张三（sms，firing）：已发出", "张三 确认告警（sms）：已到机房", "告警全部恢复", "未能读取：当日记录 2026-12-01"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
	if txt := d.Text("en", shanghai); !strings.Contains(txt, "Incident report: Room 1") || strings.Contains(txt, "# ") {
		t.Errorf("plain text:\n%s", txt)
	}

	// Complete, sign, then a change is refused unless it is a correction.
	r1, err := f.store.Complete(f.ctx, d, 0, Fields{Cause: "空调压缩机故障", Impact: "无业务中断", Measures: "启用备用空调"}, "张三", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Complete(f.ctx, d, 0, Fields{}, "李四", t0.Add(time.Hour)); !errors.Is(err, ErrStale) {
		t.Errorf("completing an old revision: %v, want ErrStale", err)
	}
	r2, err := f.store.Sign(f.ctx, "main", in.ID, r1.N, Signature{By: "王五", At: t0.Add(2 * time.Hour), From: "10.0.0.8"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.N != 2 || r2.Signed == nil || r2.Signed.Revision != 2 || r2.Fields.Cause != "空调压缩机故障" {
		t.Fatalf("signed revision %+v", r2)
	}
	if _, err := f.store.Complete(f.ctx, d, 2, Fields{Cause: "x"}, "李四", t0.Add(3*time.Hour)); !errors.Is(err, ErrSigned) {
		t.Errorf("completing a signed report: %v, want ErrSigned", err)
	}
	if _, err := f.store.Sign(f.ctx, "main", in.ID, 2, Signature{By: "王五", At: t0.Add(3 * time.Hour)}); !errors.Is(err, ErrSigned) {
		t.Errorf("signing twice: %v, want ErrSigned", err)
	}
	r3, err := f.store.Correct(f.ctx, d, 2, Fields{Cause: "空调电源模块故障", Impact: "无业务中断", Measures: "更换电源模块"}, "原因写错", "张三", t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r3.N != 3 || r3.Corrects != 2 || r3.Signed != nil {
		t.Fatalf("correction %+v", r3)
	}
	if _, err := f.store.Sign(f.ctx, "main", in.ID, 3, Signature{By: "王五", At: t0.Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	revs, err := f.store.Revisions(f.ctx, "main", in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 4 || revs[1].Signed == nil || revs[1].Fields.Cause != "空调压缩机故障" || revs[3].Fields.Cause != "空调电源模块故障" || revs[3].Signed == nil {
		t.Fatalf("revisions after a correction: %d", len(revs))
	}
	md = revs[3].Markdown("zh", shanghai)
	for _, s := range []string{"更正第 2 版：原因写错", "签字：王五 2026-12-01 06:15:00", "空调电源模块故障"} {
		if !strings.Contains(md, s) {
			t.Errorf("signed report lacks %q:\n%s", s, md)
		}
	}
	t.Logf("signed report:\n%s", md)
	got, _ := f.store.Get(f.ctx, "main", in.ID)
	if got.Signed == nil || got.Signed.Revision != 4 {
		t.Errorf("incident signature %+v, want revision 4", got.Signed)
	}
}

func TestDraftWithoutDeliveryStream(t *testing.T) {
	f := setup(t, false)
	f.tracker("")
	f.fire("room-temperature-critical", "room1", "th1", alerts.Critical, t0, map[string]alerts.Reading{"temperature_c": {Value: 36, Unit: "°C"}})
	in := f.waitIncidents(1)[0]
	rec, _ := json.Marshal(daily.Record{Schema: daily.Schema, V: daily.V, Site: "main", Room: "room1", Date: "2026-12-01",
		Summary: daily.Summary{MainsLossEpisodes: 1, MainsLossS: 1500, Alarms: 3}})
	if _, err := f.store.daily.Put(f.ctx, alerts.DailyKey("main", "room1", "2026-12-01"), rec); err != nil {
		t.Fatal(err)
	}
	d, err := f.store.Draft(f.ctx, "main", in.ID, alerts.Config{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Missing) == 0 || d.Missing[0] != alerts.DeliveryStream {
		t.Errorf("missing %v, want %s named", d.Missing, alerts.DeliveryStream)
	}
	if got := kinds(d); len(got) != 2 || got[0] != "alarm:firing" {
		t.Errorf("timeline %v", got)
	}
	if txt := d.Text("zh", shanghai); !strings.Contains(txt, "市电中断次数：1") || !strings.Contains(txt, "市电中断时长：25 min") {
		t.Errorf("the day's facts missing:\n%s", txt)
	}
}

func TestConfigErrors(t *testing.T) {
	bad := `
operator: province
classes:
  - name: x
    title: {zh: 某事件}
    match: {severities: [urgent]}
    condition: {kind: mains-lost, share: 2}
    responsible: 值班长
  - name: x
    title: {zh: 某事件, en: some incident}
    condition: {kind: above}
`
	_, err := Parse("roomwatch.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`roomwatch.yaml:2: operator: "province"`,
		"roomwatch.yaml:5: classes[0].title: want zh and en titles",
		`roomwatch.yaml:6: classes[0].match.severities[0]: "urgent"`,
		"roomwatch.yaml:7: classes[0].condition.share:",
		`roomwatch.yaml:9: classes[1].name: "x": a class of this name is defined above`,
		"roomwatch.yaml:11: classes[1].condition.value: empty",
		"classes[1].responsible: empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	cfg, err := Parse("ok.yaml", []byte("hospital_deadline: 12h\nclasses: [{name: a, title: {zh: 甲, en: A}, responsible: 值班长, operator: cii}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k := cfg.Classes[0]; k.Deadline != time.Hour || k.HospitalDeadline != 12*time.Hour || k.Condition.Kind != CondAny {
		t.Errorf("defaults: %+v", k)
	}
}
