package notify

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels"
)

// ackRE matches an acknowledgement reply: "确认 1234", "ACK 1234",
// "ack1234", full-width digits and spaces normalised first.
var ackRE = regexp.MustCompile(`(?i)^\s*(确认|收到|ack|ok)\s*[:：]?\s*([0-9]{4})\s*$`)

// ParseAck returns the code of an acknowledgement reply, or "".
func ParseAck(text string) string {
	m := ackRE.FindStringSubmatch(halfWidth(text))
	if m == nil {
		return ""
	}
	return m[2]
}

// halfWidth turns full-width digits, letters and spaces into ASCII.
func halfWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= '！' && r <= '～':
			return r - '！' + '!'
		}
		return r
	}, s)
}

// NormalizeMobile reduces a number to the form people are configured
// with: channels.PhoneNumber's, +86 (or 0086) dropped for Chinese
// numbers; a number it refuses comes back trimmed, matching nobody's.
func NormalizeMobile(s string) string {
	n, err := channels.PhoneNumber(s)
	if err != nil {
		return strings.TrimSpace(s)
	}
	if national, ok := strings.CutPrefix(n, "+86"); ok && len(national) == 11 {
		return national
	}
	return n
}

// personByMobile finds the configured person with this number.
func (c *Config) personByMobile(number string) (Person, bool) {
	want := NormalizeMobile(number)
	for _, p := range c.People {
		if p.Mobile != "" && NormalizeMobile(p.Mobile) == want {
			return p, true
		}
	}
	return Person{}, false
}

// receive reads what a receiving channel (the modem) gets back until ctx
// ends: acknowledgements by SMS and delivery reports.
func (n *Notifier) receive(ctx context.Context, r channels.Receiver) {
	for ctx.Err() == nil {
		err := r.Receive(ctx, func(in channels.Inbound) { n.inbound(ctx, in) })
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("receive", "channel", r.Name(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// inbound handles one message that came back: a delivery report is
// recorded; an acknowledgement from a known person's number is published
// as an Ack (via sms); anything else is logged.
func (n *Notifier) inbound(ctx context.Context, in channels.Inbound) {
	if in.Report != nil {
		res := alerts.DeliveryReport
		if !in.Report.Delivered {
			res = alerts.DeliveryFailed
		}
		n.record(ctx, alerts.Delivery{
			Schema: alerts.DeliverySchema, ID: in.Report.Ref, Kind: "report", Channel: in.Channel,
			Address: in.From, Result: res, Answer: in.Report.Status, At: in.At,
		})
		return
	}
	log := n.log.With("channel", in.Channel, "from", in.From)
	code := ParseAck(in.Text)
	if code == "" {
		log.Info("SMS received that is no acknowledgement", "text", in.Text)
		return
	}
	p, ok := n.cfg.personByMobile(in.From)
	if !ok {
		log.Warn("acknowledgement from an unknown number ignored", "text", in.Text)
		return
	}
	pend, err := n.byCode(ctx, code)
	if err != nil {
		log.Warn("acknowledgement ignored", "person", p.Name, "err", err)
		return
	}
	at := in.At
	if at.IsZero() {
		at = n.now()
	}
	k := alerts.Ack{
		AlarmID: pend.AlarmID, Fingerprint: pend.Fingerprint, Site: pend.Site, Room: pend.Room,
		By: p.Name, Via: alerts.AckViaSMS, From: in.From, Comment: in.Text, At: at.UTC(),
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := alerts.PublishAck(pctx, n.js, k); err != nil {
		log.Error("acknowledgement by SMS not published", "person", p.Name, "err", err)
		return
	}
	log.Info("alarm acknowledged by SMS", "person", p.Name, "alarm", pend.AlarmID, "code", code)
}
