package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels"
)

func sentTexts(f *fakeChannel) []string {
	var out []string
	for _, m := range f.messages() {
		out = append(out, m.Text)
	}
	return out
}

func anyContains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// deliveries reads every delivery record.
func deliveries(t testing.TB, js jetstream.JetStream) []alerts.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := ReadLog(ctx, js, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestE2EMainsCut: a mains-cut alarm on JetStream reaches the person on
// duty, is recorded, and its resolution follows; the escalation state is
// then forgotten.
func TestE2EMainsCut(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, baseYAML)
	sms := &fakeChannel{name: "sms"}
	e.start(t, c, map[string]channels.Channel{"sms": sms}, "a")
	a := e.fire(t, 1, alerts.Critical, "一号机房 UPS1 市电中断，电池供电")
	waitFor(t, 10*time.Second, "the alarm at the channel", func() bool { return anyContains(sentTexts(sms), "alarm-1 一号机房 UPS1 市电中断") })
	m := sms.messages()[0]
	onDuty, _ := c.Roster.OnDuty(time.Now())
	if len(m.To) != 1 || m.To[0].Name != onDuty[0] || m.Severity != alerts.Critical || !strings.HasPrefix(m.Text, "【严重】") {
		t.Errorf("message %+v, want a critical one to %s", m, onDuty[0])
	}
	waitFor(t, 5*time.Second, "the delivery record", func() bool {
		ds := deliveries(t, e.js)
		return len(ds) == 1 && ds[0].Result == alerts.DeliverySent && ds[0].AlarmIDs[0] == a.ID && ds[0].Person == onDuty[0]
	})
	r := a.Clone()
	r.Resolve(time.Now().UTC())
	if _, err := e.pub.Publish(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the resolution", func() bool { return anyContains(sentTexts(sms), "【已恢复】alarm-1") })
	kv, _ := e.js.KeyValue(context.Background(), PendingBucket)
	waitFor(t, 5*time.Second, "the pending entry deleted", func() bool {
		_, err := kv.Get(context.Background(), pendingKey("main", a.ID))
		return err != nil
	})
}

// TestE2EEscalationAndAck: an unacknowledged alarm goes to the 科主任
// after its delay; an acknowledged one does not.
func TestE2EEscalationAndAck(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, strings.Replace(baseYAML, "{after: 10m, to: [王主任]}", "{after: 1s, to: [王主任]}", 1))
	sms := &fakeChannel{name: "sms"}
	n := e.start(t, c, map[string]channels.Channel{"sms": sms}, "a")
	acked := e.fire(t, 1, alerts.Major, "二号机房 温度过高")
	waitFor(t, 10*time.Second, "the first level told", func() bool { return anyContains(sentTexts(sms), "alarm-1") })
	if _, err := alerts.PublishAck(context.Background(), e.js, alerts.Ack{AlarmID: acked.ID, Site: "main", Room: "dc1", By: "张三", Via: alerts.AckViaCLI, At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the acknowledgement recorded", func() bool {
		p, _, err := n.getPending(context.Background(), pendingKey("main", acked.ID))
		return err == nil && p != nil && p.Acked && p.AckBy == "张三"
	})
	e.fire(t, 2, alerts.Major, "二号机房 湿度过高")
	waitFor(t, 10*time.Second, "the second alarm escalated to 王主任", func() bool {
		for _, m := range sms.messages() {
			if strings.Contains(m.Text, "【升级·重要】alarm-2") && m.To[0].Name == "王主任" {
				return true
			}
		}
		return false
	})
	if anyContains(sentTexts(sms), "【升级·重要】alarm-1") {
		t.Error("the acknowledged alarm was escalated")
	}
}

// receiver is a fake modem: the test hands it inbound SMS.
type receiver struct {
	*fakeChannel
	in chan channels.Inbound
}

func (r *receiver) Receive(ctx context.Context, h func(channels.Inbound)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-r.in:
			h(m)
		}
	}
}

var codeRE = regexp.MustCompile(`确认 ([0-9]{4})`)

// TestE2ESMSAck: "确认 <code>" from a known number acknowledges the alarm
// (published on ROOMWATCH_ACKS, via sms); from an unknown number nothing.
func TestE2ESMSAck(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, baseYAML)
	modem := &receiver{fakeChannel: &fakeChannel{name: "sms"}, in: make(chan channels.Inbound)}
	n := e.start(t, c, map[string]channels.Channel{"sms": modem}, "a")
	a := e.fire(t, 7, alerts.Critical, "一号机房 漏水")
	waitFor(t, 10*time.Second, "the alarm sent", func() bool { return len(modem.messages()) == 1 })
	m := codeRE.FindStringSubmatch(modem.messages()[0].Text)
	if m == nil {
		t.Fatalf("no code in %q", modem.messages()[0].Text)
	}
	onDuty, _ := c.Roster.OnDuty(time.Now())
	p, _ := c.person(onDuty[0])
	modem.in <- channels.Inbound{Channel: "sms", From: "+8613900000000", Text: "确认 " + m[1], At: time.Now()}
	modem.in <- channels.Inbound{Channel: "sms", From: "+86" + p.Mobile, Text: "ＡＣＫ　" + m[1], At: time.Now()}
	waitFor(t, 10*time.Second, "the alarm acknowledged", func() bool {
		p, _, err := n.getPending(context.Background(), pendingKey("main", a.ID))
		return err == nil && p != nil && p.Acked
	})
	s, err := e.js.Stream(context.Background(), alerts.AckStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetLastMsgForSubject(context.Background(), alerts.AckSubject("main", "dc1"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := alerts.UnmarshalAck(raw.Data)
	if err != nil || k.By != p.Name || k.Via != alerts.AckViaSMS || k.AlarmID != a.ID {
		t.Errorf("ack %+v %v", k, err)
	}
	if info, _ := s.Info(context.Background()); info.State.Msgs != 1 {
		t.Errorf("%d acks stored, want 1 (the unknown number's is ignored)", info.State.Msgs)
	}
}

// gated blocks its first send until opened.
type gated struct {
	*fakeChannel
	once sync.Once
	open chan struct{}
}

func (g *gated) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	g.once.Do(func() { <-g.open })
	return g.fakeChannel.Send(ctx, m)
}

// TestE2EStormRate: 50 alarms on a robot channel (20 a minute): 20 go in
// the first minute, the critical ones first, the rest wait.
func TestE2EStormRate(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, strings.ReplaceAll(baseYAML, "kind: test", "kind: robot"))
	robot := &gated{fakeChannel: &fakeChannel{name: "sms"}, open: make(chan struct{})}
	n := e.start(t, c, map[string]channels.Channel{"sms": robot}, "a")
	for i := range 50 {
		sev := alerts.Warning
		if i >= 40 {
			sev = alerts.Critical
		}
		e.fire(t, i, sev, "storm")
	}
	waitFor(t, 20*time.Second, "49 messages queued behind the first", func() bool { return n.Queued()["sms"] == 49 })
	close(robot.open)
	waitFor(t, 10*time.Second, "20 messages sent", func() bool { return len(robot.messages()) == 20 })
	ms := robot.messages()
	for i := 1; i <= 10; i++ {
		if ms[i].Severity != alerts.Critical {
			t.Errorf("message %d: %s %q, want the critical ones right after the first", i, ms[i].Severity, ms[i].Text)
		}
	}
	if q := n.Queued()["sms"]; q != 30 {
		t.Errorf("%d waiting, want 30 (the rate allows 20 a minute)", q)
	}
}

// TestE2EStormGrouped: with a window, a storm is one message per person.
func TestE2EStormGrouped(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, strings.Replace(baseYAML, "storm: {window: 0s}", "storm: {window: 1s}", 1))
	sms := &fakeChannel{name: "sms"}
	e.start(t, c, map[string]channels.Channel{"sms": sms}, "a")
	for i := range 20 {
		sev := alerts.Minor
		if i == 13 {
			sev = alerts.Critical
		}
		e.fire(t, i, sev, "断电")
	}
	waitFor(t, 10*time.Second, "the storm message", func() bool { return len(sms.messages()) > 0 })
	m := sms.messages()[0]
	if len(alarmName.FindAllString(m.Text, -1)) != 20 || !strings.HasPrefix(m.Text, "【严重】alarm-13") || !strings.Contains(m.Text, "另有 19 条") {
		t.Errorf("storm message %q: want the critical alarm first and all 20 alarms", m.Text)
	}
}

// TestE2EChannelFailing: a channel that keeps failing dead-letters the
// send and raises notify-channel-failing, told over the other channel.
func TestE2EChannelFailing(t *testing.T) {
	e := newEnv(t)
	src := strings.Replace(baseYAML, "  - {name: sms, kind: test}\n", "  - {name: sms, kind: test}\n  - {name: wecom, kind: test}\n", 1)
	src = strings.Replace(src, `{name: 张三, mobile: "13800138001", channels: [sms]}`, `{name: 张三, mobile: "13800138001", channels: [sms, wecom]}`, 1)
	src = strings.Replace(src, `{name: 李四, mobile: "13800138002", channels: [sms]}`, `{name: 李四, mobile: "13800138002", channels: [sms, wecom]}`, 1)
	c := mustParse(t, src+"retry: {min: 10ms, max: 20ms, attempts: 3}\n")
	sms := &fakeChannel{name: "sms", fail: fmt.Errorf("gateway says no")}
	wecom := &fakeChannel{name: "wecom"}
	e.start(t, c, map[string]channels.Channel{"sms": sms, "wecom": wecom}, "a")
	e.fire(t, 1, alerts.Major, "配电柜 防雷器失效")
	waitFor(t, 10*time.Second, "notify-channel-failing told over wecom", func() bool { return anyContains(sentTexts(wecom), "通知渠道 sms 发送失败") })
	s, _ := e.js.Stream(context.Background(), DeadLetterStream)
	info, _ := s.Info(context.Background())
	if info.State.Msgs < 1 {
		t.Error("nothing dead-lettered")
	}
	var dead, failed int
	for _, d := range deliveries(t, e.js) {
		switch {
		case d.Channel == "sms" && d.Result == alerts.DeliveryDead:
			dead++
		case d.Channel == "sms" && d.Result == alerts.DeliveryFailed:
			failed++
		}
	}
	if dead < 1 || failed < 2 {
		t.Errorf("records: %d dead, %d failed attempts on sms", dead, failed)
	}
}

// TestE2EDeadMan: a site whose heartbeat stops pages the person on duty;
// its return is announced.
func TestE2EDeadMan(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, baseYAML+"deadman: {silence: 2s}\n")
	sms := &fakeChannel{name: "sms"}
	e.start(t, c, map[string]channels.Channel{"sms": sms}, "a")
	beat := func() {
		b, _ := json.Marshal(alerts.Heartbeat{Schema: alerts.HeartbeatSchema, Site: "main", At: time.Now().UTC()})
		if err := e.nc.Publish(alerts.HeartbeatSubject("main"), b); err != nil {
			t.Fatal(err)
		}
	}
	beat()
	waitFor(t, 10*time.Second, "the silence paged", func() bool { return anyContains(sentTexts(sms), "【监控失联】main 监控已") })
	onDuty, _ := c.Roster.OnDuty(time.Now())
	if to := sms.messages()[0].To[0].Name; to != onDuty[0] {
		t.Errorf("paged %s, want %s on duty", to, onDuty[0])
	}
	beat()
	waitFor(t, 10*time.Second, "the recovery announced", func() bool { return anyContains(sentTexts(sms), "【恢复】main 监控已恢复心跳") })
}

// TestE2EWebhookSink: a mains cut goes through the real HTTP SMS gateway
// channel to a local HTTP server, as the gateway's request.
func TestE2EWebhookSink(t *testing.T) {
	e := newEnv(t)
	sk := &sink{counts: map[string]int{}}
	hs := httptest.NewServer(sk)
	defer hs.Close()
	src := strings.Replace(baseYAML, "  - {name: sms, kind: test}\n", sinkChannel(hs.URL, "a")[1:], 1)
	src = strings.ReplaceAll(src, "channels: [sms]", "channels: [sink]")
	c := mustParse(t, src)
	e.start(t, c, nil, "a")
	e.fire(t, 1, alerts.Critical, "一号机房 UPS1 市电中断，电池供电")
	onDuty, _ := c.Roster.OnDuty(time.Now())
	waitFor(t, 10*time.Second, "the gateway request at the sink", func() bool {
		counts, _ := sk.snapshot()
		return counts[onDuty[0]+"/alarm-1"] == 1
	})
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if got := sk.msgs[0].Text; !strings.HasPrefix(got, "【严重】alarm-1 一号机房 UPS1 市电中断") {
		t.Errorf("text %q", got)
	}
}

// TestE2ESelfTest: the daily self-test goes to the person on duty once.
func TestE2ESelfTest(t *testing.T) {
	e := newEnv(t)
	c := mustParse(t, baseYAML+"selftest: {at: \"00:00\"}\n")
	sms := &fakeChannel{name: "sms"}
	e.start(t, c, map[string]channels.Channel{"sms": sms}, "a")
	e.start(t, c, map[string]channels.Channel{"sms": sms}, "b")
	waitFor(t, 10*time.Second, "the self-test", func() bool { return anyContains(sentTexts(sms), "【自检】roomwatch 每日自检") })
	waitFor(t, 10*time.Second, "both instances through the self-test", func() bool { return openClaims(t, e) == 0 })
	if got := len(sms.messages()); got != 1 {
		t.Errorf("%d self-test messages from two instances, want 1", got)
	}
	onDuty, _ := c.Roster.OnDuty(time.Now())
	if to := sms.messages()[0].To[0].Name; to != onDuty[0] {
		t.Errorf("self-test to %s, want %s on duty", to, onDuty[0])
	}
}
