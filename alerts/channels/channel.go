// Package channels is what the notifier needs from a way of telling a
// person: one package per channel below this one (wecom, dingtalk,
// httpsms, email, modem), each a Channel built from its own Config.
package channels

import (
	"context"
	"time"

	"github.com/roomwatch/roomwatch/rules"
)

// Recipient is one person (or a group's webhook) a message goes to.
type Recipient struct {
	Name      string // display name: 张三
	Mobile    string // E.164 or a Chinese mobile number (13800138000)
	WeComUser string // WeCom user id (application messages)
	Email     string
}

// Message is one notification, already rendered by the notifier: a storm
// of alarms is one Message whose Text names the worst first.
type Message struct {
	ID       string         // notification id; the idempotency key of this send
	Severity rules.Severity // the worst alarm's severity (queue order, quiet hours)
	Title    string         // a short title: 【紧急】一号机房 市电中断
	Text     string         // plain text, Chinese first; the first 70 characters carry the worst line
	Markdown string         // optional richer form for channels that take markdown
	To       []Recipient    // people this send addresses (a robot channel may @-mention them)
}

// Receipt is what a channel said about one send.
type Receipt struct {
	// Answer is the vendor's answer or the modem's report, verbatim, for
	// the delivery record.
	Answer string
	// Ref is the channel's reference of the sent message (modem message
	// reference, vendor msgid), matched later to a delivery report.
	Ref string
	// Retry, on error: another attempt may succeed.
	Retry bool
	// RetryAfter, on error: the vendor asked to wait this long (rate limit).
	RetryAfter time.Duration
	// Unknown, on error: the message may have been delivered (a modem that
	// timed out mid-send). The notifier records it and does not resend
	// blindly.
	Unknown bool
}

// Channel delivers messages. Send returns once the channel accepted the
// message (the vendor answered success, the modem returned +CMGS) or
// failed; it honours ctx.
type Channel interface {
	// Name is the configured channel's name (unique in the config).
	Name() string
	Send(ctx context.Context, m *Message) (Receipt, error)
}

// Inbound is a message that came back through a channel: an SMS reply to
// the modem (an acknowledgement such as "确认 1234"), or a delivery report.
type Inbound struct {
	Channel string
	From    string // the sender's number, normalised to digits with a leading + for international
	Text    string
	At      time.Time
	// Report is set when this is a delivery report for a sent message.
	Report *DeliveryReport
}

// DeliveryReport is the handset's report on one sent message.
type DeliveryReport struct {
	Ref       string // Receipt.Ref of the send it reports on
	Delivered bool
	Status    string // the status as the network gave it
}

// Receiver is a Channel that also receives (the GSM modem): Receive calls
// h for each inbound message until ctx ends.
type Receiver interface {
	Channel
	Receive(ctx context.Context, h func(Inbound)) error
}
