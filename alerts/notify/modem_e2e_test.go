package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim/simtest"
)

// TestE2EModem: a mains cut reaches the person on duty through the real
// modem channel and the simulated modem, as UCS-2 SMS; their reply
// "确认 <code>" acknowledges the alarm (published via sms), a reply from
// an unknown number does not.
func TestE2EModem(t *testing.T) {
	e := newEnv(t)
	sim := simtest.Start(t)
	src := strings.Replace(baseYAML, "  - {name: sms, kind: test}\n", "  - {name: sms, kind: modem, modem: {port: "+sim.Path()+", command_timeout: 2s, send_timeout: 5s}}\n", 1)
	c := mustParse(t, src)
	n := e.start(t, c, nil, "a")
	a := e.fire(t, 1, alerts.Critical, "一号机房 UPS1 市电中断，电池供电")
	onDuty, _ := c.Roster.OnDuty(time.Now())
	p, _ := c.person(onDuty[0])
	waitFor(t, 20*time.Second, "the SMS at the modem", func() bool {
		for _, m := range sim.Messages() {
			if strings.Contains(m.Text, "alarm-1 一号机房 UPS1 市电中断") && strings.HasSuffix(m.To, p.Mobile) {
				return true
			}
		}
		return false
	})
	sms := sim.Messages()[0]
	if sms.Encoding != "UCS2" && sms.Encoding != "UCS-2" {
		t.Errorf("encoding %q, want UCS-2", sms.Encoding)
	}
	code := codeRE.FindStringSubmatch(sms.Text)
	if code == nil {
		t.Fatalf("no code in %q", sms.Text)
	}
	if err := sim.Inject("+8613900000000", "确认 "+code[1]); err != nil {
		t.Fatal(err)
	}
	if err := sim.Inject("+86"+p.Mobile, "确认 "+code[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the alarm acknowledged by SMS", func() bool {
		q, _, err := n.getPending(context.Background(), pendingKey("main", a.ID))
		return err == nil && q != nil && q.Acked && q.AckBy == p.Name
	})
	s, _ := e.js.Stream(context.Background(), alerts.AckStream)
	if info, _ := s.Info(context.Background()); info.State.Msgs != 1 {
		t.Errorf("%d acks stored, want 1 (the unknown number's ignored)", info.State.Msgs)
	}
}
