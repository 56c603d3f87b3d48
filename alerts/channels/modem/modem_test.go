package modem

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/channeltest"
	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim"
	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim/simtest"
)

// chinese150 is a 150-character Chinese alarm text.
var chinese150 = func() string {
	s := strings.Repeat("【紧急】一号机房市电中断，UPS电池供电，剩余约二十分钟。", 6)
	return string([]rune(s)[:150])
}()

func TestLongChineseTextArrivesInPartsWithItsOwnReference(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	ctx := ctx30(t)

	rc, err := m.Send(ctx, to("n1", chinese150, "13800138000"))
	if err != nil {
		t.Fatalf("Send: %v (%+v)", err, rc)
	}
	second := "第二条：" + chinese150
	if _, err := m.Send(ctx, to("n2", second, "13800138000")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Wait(ctx, func(v modemsim.View) bool { return len(v.Messages) == 2 }); err != nil {
		t.Fatalf("simulator got %d messages: %v", len(s.Messages()), err)
	}
	msgs := s.Messages()
	for i, want := range []string{chinese150, second} {
		got := msgs[i]
		if got.Text != want {
			t.Errorf("message %d decodes to %q, want %q", i+1, got.Text, want)
		}
		if got.To != "13800138000" {
			t.Errorf("message %d to %q, want 13800138000 (a national number, not +13800138000)", i+1, got.To)
		}
		if len(got.Parts) != 3 {
			t.Errorf("message %d in %d parts, want 3 (67 UCS-2 characters each)", i+1, len(got.Parts))
		}
		for _, p := range got.Parts {
			if p.Encoding != "UCS-2" || p.ConcatRef != got.Parts[0].ConcatRef || p.Parts != len(got.Parts) {
				t.Errorf("message %d part %d: %s, reference %d of %d parts; want UCS-2, reference %d",
					i+1, p.Seq, p.Encoding, p.ConcatRef, p.Parts, got.Parts[0].ConcatRef)
			}
		}
	}
	if msgs[0].ConcatRef == msgs[1].ConcatRef {
		t.Errorf("both messages carry concatenation reference %d: a phone may merge them", msgs[0].ConcatRef)
	}
	if n := strings.Count(rc.Ref, ",") + 1; n != 3 || rc.Answer == "" {
		t.Errorf("receipt %+v: want 3 message references and the modem's answers", rc)
	}
}

func TestCMSErrorIsReportedByCodeAndNotSent(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	ctx := ctx30(t)
	for _, tc := range []struct {
		code  int
		retry bool
	}{{42, true}, {1, false}, {331, true}, {77, true}} {
		s.FailNext(tc.code)
		rc, err := m.Send(ctx, to("n", "机房温度 31.5 °C", "+8613800138000"))
		var cms *CMSError
		if !errors.As(err, &cms) || cms.Code != tc.code {
			t.Fatalf("code %d: error %v, want a CMSError with that code", tc.code, err)
		}
		if rc.Retry != tc.retry || rc.Unknown {
			t.Errorf("code %d: receipt %+v, want Retry=%v and not unknown", tc.code, rc, tc.retry)
		}
		if !strings.Contains(err.Error(), "+CMS ERROR: ") || !strings.Contains(rc.Answer, "+CMS ERROR: ") {
			t.Errorf("code %d: error %q, answer %q: want the modem's line", tc.code, err, rc.Answer)
		}
	}
	if msgs := s.Messages(); len(msgs) != 0 {
		t.Errorf("refused sends counted as sent: %v", msgs)
	}
	if _, err := m.Send(ctx, to("n", "恢复", "+8613800138000")); err != nil {
		t.Fatalf("send after refusals: %v", err)
	}
}

func TestSlowModemIsNotReportedFailed(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	log, logged := channeltest.Logger()
	m.log = log
	s.SetSendDelay(1500 * time.Millisecond) // beyond the AT driver's 1 s default
	rc, err := m.Send(ctx30(t), to("n", "一号机房 UPS 电池放电", "13800138000"))
	if err != nil {
		t.Fatalf("slow send reported failed: %v (%+v)", err, rc)
	}
	if n := len(s.PDUs()); n != 1 {
		t.Errorf("modem got %d PDUs, want 1", n)
	}
	if !strings.Contains(logged.String(), `signal="-67 dBm"`) {
		t.Errorf("set-up not logged with the signal:\n%s", logged)
	}
}

func TestTimedOutSendIsUnknownNotRetried(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	m.cfg.SendTimeout = 300 * time.Millisecond // below what Validate allows, to keep the test short
	ctx := ctx30(t)
	if _, err := m.Send(ctx, to("n0", "连接", "13800138000")); err != nil {
		t.Fatal(err)
	}
	s.SetSendDelay(2 * time.Second)
	rc, err := m.Send(ctx, to("n1", "超时", "13800138000"))
	if err == nil || !rc.Unknown || rc.Retry {
		t.Fatalf("timed-out send: %v, %+v; want an error with Unknown and not Retry", err, rc)
	}
	// The modem answers late; the next send must still read its own answer.
	if err := s.Wait(ctx, func(v modemsim.View) bool { return len(v.PDUs) == 2 }); err != nil {
		t.Fatal(err)
	}
	s.SetSendDelay(0)
	var lastErr error
	for range 5 {
		rc, lastErr = m.Send(ctx, to("n2", "之后", "13800138000"))
		if lastErr == nil {
			break
		}
		if !rc.Retry || rc.Unknown {
			t.Fatalf("send after a timeout: %v, %+v", lastErr, rc)
		}
		time.Sleep(rc.RetryAfter)
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
	msgs := s.Messages()
	if got := msgs[len(msgs)-1]; got.Text != "之后" || rc.Ref != strconv.Itoa(got.Parts[0].MR) {
		t.Errorf("last message %q with reference %d, receipt %+v", got.Text, got.Parts[0].MR, rc)
	}
}

func TestUnplugAndReplug(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	in := receive(t, m)
	ctx := ctx30(t)
	if _, err := m.Send(ctx, to("n1", "插上", "13800138000")); err != nil {
		t.Fatal(err)
	}
	if err := s.Unplug(); err != nil {
		t.Fatal(err)
	}
	rc, err := m.Send(ctx, to("n2", "拔掉", "13800138000"))
	if err == nil || !rc.Retry || rc.Unknown {
		t.Fatalf("send while unplugged: %v, %+v; want an error with Retry", err, rc)
	}
	if err := s.Replug(); err != nil {
		t.Fatal(err)
	}
	sendUntilSent(t, m, to("n3", "重新插上", "13800138000"))
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[1].Text != "重新插上" {
		t.Fatalf("simulator got %v", msgs)
	}
	// Set up again after the replug: new messages are announced again.
	if err := s.Inject("+8613900139000", "ACK 4321"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, in); got.Text != "ACK 4321" {
		t.Errorf("after replug received %+v", got)
	}
}

// sendUntilSent sends msg, waiting as told while the channel says retry,
// for at most 60 s.
func sendUntilSent(t *testing.T, m *Modem, msg *channels.Message) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rc, err := m.Send(context.Background(), msg)
		if err == nil {
			return
		}
		if !rc.Retry || rc.Unknown || time.Now().After(deadline) {
			t.Fatalf("send: %v, %+v", err, rc)
		}
		time.Sleep(max(rc.RetryAfter, 50*time.Millisecond))
	}
}

func TestIncomingAckReachesTheHandler(t *testing.T) {
	s := simtest.Start(t)
	// One waiting on the SIM before anybody receives.
	if err := s.Inject("13900139000", "确认 5678"); err != nil {
		t.Fatal(err)
	}
	m := newModem(t, s)
	in := receive(t, m)
	got := next(t, in)
	if got.From != "13900139000" || got.Text != "确认 5678" || got.Channel != "sms" || got.Report != nil {
		t.Errorf("stored message received as %+v", got)
	}
	if err := s.Inject("+8613800138000", "ACK 1234"); err != nil {
		t.Fatal(err)
	}
	got = next(t, in)
	if got.From != "+8613800138000" || got.Text != "ACK 1234" {
		t.Errorf("received %+v, want ACK 1234 from +8613800138000", got)
	}
	long := "确认 1234 " + chinese150
	if err := s.Inject("+8613800138000", long); err != nil {
		t.Fatal(err)
	}
	if got = next(t, in); got.Text != long {
		t.Errorf("long reply received as %q", got.Text)
	}
	if err := s.Wait(ctx30(t), func(v modemsim.View) bool { return v.Stored == 0 }); err != nil {
		t.Errorf("%d messages left on the SIM", s.Stored())
	}
}

func TestUnannouncedMessagesAreReadToo(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s, func(c *Config) {
		c.Init = []string{"+CNMI=0,0,0,0,0"} // a modem that announces nothing
		c.ReadInterval = time.Second
	})
	in := receive(t, m)
	if _, err := m.Send(ctx30(t), to("n", "告警", "13800138000")); err != nil {
		t.Fatal(err)
	}
	if err := s.Inject("+8613800138000", "ACK 9999"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, in); got.Text != "ACK 9999" {
		t.Errorf("received %+v", got)
	}
}

func TestDeliveryReportMatchesItsSend(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s, func(c *Config) { c.DeliveryReports = true })
	in := receive(t, m)
	ctx := ctx30(t)
	rc, err := m.Send(ctx, to("n1", chinese150, "13800138000"))
	if err != nil {
		t.Fatal(err)
	}
	got := next(t, in)
	if got.Report == nil || got.Report.Ref != rc.Ref || !got.Report.Delivered || got.From != "13800138000" {
		t.Fatalf("report %+v (%+v), want delivered for %q", got, got.Report, rc.Ref)
	}
	s.SetReportStatus(0x46)
	rc, err = m.Send(ctx, to("n2", "短", "13800138000"))
	if err != nil {
		t.Fatal(err)
	}
	got = next(t, in)
	if got.Report == nil || got.Report.Ref != rc.Ref || got.Report.Delivered || !strings.Contains(got.Report.Status, "0x46") {
		t.Fatalf("report %+v, want not delivered (0x46) for %q", got.Report, rc.Ref)
	}
	for _, p := range s.PDUs() {
		if !p.SRR {
			t.Errorf("part %d of %q asks for no status report", p.Seq, p.Text)
		}
	}
}

func TestWrongPINIsNotTriedTwice(t *testing.T) {
	s := simtest.Start(t)
	s.SetPIN("1234")
	log, logged := channeltest.Logger()
	m := newModem(t, s, func(c *Config) { c.PIN = "0000" })
	m.log = log
	for range 2 {
		rc, err := m.Send(ctx30(t), to("n", "测试", "13800138000"))
		if err == nil || !strings.Contains(err.Error(), "PIN") {
			t.Fatalf("send with a wrong PIN: %v, %+v", err, rc)
		}
		channeltest.NoLeak(t, []string{"0000"}, err.Error(), rc.Answer, logged.String())
		m.connMu.Lock()
		m.nextOpen = time.Time{} // no waiting for the back-off
		m.connMu.Unlock()
	}
	if n := s.PINAttempts(); n != 1 {
		t.Errorf("PIN entered %d times, want once", n)
	}

	good := newModem(t, s, func(c *Config) { c.PIN = "1234" })
	if _, err := good.Send(ctx30(t), to("n", "测试", "13800138000")); err != nil {
		t.Fatal(err)
	}
}

func TestSeveralRecipients(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	ctx := ctx30(t)
	msg := &channels.Message{ID: "n", Text: "一号机房 漏水", To: []channels.Recipient{
		{Name: "张三", Mobile: "13800138000"}, {Name: "值班群", WeComUser: "duty"}, {Name: "李四", Mobile: "+86 139 0013 9000"},
	}}
	rc, err := m.Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].To != "13800138000" || msgs[1].To != "+8613900139000" || strings.Count(rc.Ref, ",") != 1 {
		t.Fatalf("sent %v, receipt %+v", msgs, rc)
	}
	// The second recipient refused after the first got it: not retried.
	s.FailNext(0, 42)
	rc, err = m.Send(ctx, msg)
	if err == nil || rc.Retry || rc.Unknown || !strings.Contains(err.Error(), "sent to 13800138000; not to +8613900139000") {
		t.Fatalf("partial send: %v, %+v", err, rc)
	}
	if _, err := m.Send(ctx, &channels.Message{ID: "n", Text: "x", To: []channels.Recipient{{Name: "群", WeComUser: "duty"}}}); err == nil {
		t.Error("a message with no mobile number was accepted")
	}
}

func TestCancelledSendStopsAtOnce(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	if _, err := m.Send(ctx30(t), to("n0", "连接", "13800138000")); err != nil {
		t.Fatal(err)
	}
	s.SetSendDelay(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = s.Wait(ctx30(t), func(v modemsim.View) bool { return len(v.PDUs) == 2 })
		cancel()
	}()
	rc, err := m.Send(ctx, to("n1", "取消", "13800138000"))
	if !errors.Is(err, context.Canceled) || !rc.Unknown {
		t.Fatalf("cancelled after the PDU was written: %v, %+v; want Unknown", err, rc)
	}
}

func TestUnplugMidSendIsUnknown(t *testing.T) {
	s := simtest.Start(t)
	m := newModem(t, s)
	if _, err := m.Send(ctx30(t), to("n0", "连接", "13800138000")); err != nil {
		t.Fatal(err)
	}
	s.SetSendDelay(time.Hour)
	go func() {
		if s.Wait(ctx30(t), func(v modemsim.View) bool { return len(v.PDUs) == 2 }) == nil {
			_ = s.Unplug()
		}
	}()
	rc, err := m.Send(ctx30(t), to("n1", "拔线", "13800138000"))
	if err == nil || !rc.Unknown || rc.Retry {
		t.Fatalf("unplugged after the PDU was written: %v, %+v; want Unknown", err, rc)
	}
}
