package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/warthog618/modem/at"
)

// Send sends msg's text (its title when the text is empty) as SMS to every
// recipient with a mobile number, one at a time. The Receipt's Ref lists
// the message references the modem gave (+CMGS), comma-separated, the
// parts of each recipient in order; a delivery report carries the same
// Ref.
//
// On error: Retry when the message did not leave (modem unreachable, a
// +CMS ERROR code worth retrying, the connection lost before the PDU
// was written); Unknown when it may have left (no answer within
// send_timeout, the connection lost after the PDU was written). With
// several recipients, a failure after the first got the message is
// neither: the error names who got it. Send one recipient per Message
// for exact retries.
func (m *Modem) Send(ctx context.Context, msg *channels.Message) (channels.Receipt, error) {
	text := msg.Text
	if strings.TrimSpace(text) == "" {
		text = msg.Title
	}
	if strings.TrimSpace(text) == "" {
		return channels.Receipt{}, fmt.Errorf("modem %s: message %s: empty text", m.name, msg.ID)
	}
	var numbers []string
	for _, mobile := range channels.Mobiles(msg.To) {
		n, err := channels.PhoneNumber(mobile)
		if err != nil {
			return channels.Receipt{}, fmt.Errorf("modem %s: message %s: %w", m.name, msg.ID, err)
		}
		numbers = append(numbers, n)
	}
	if len(numbers) == 0 {
		return channels.Receipt{}, fmt.Errorf("modem %s: message %s: no recipient has a mobile number", m.name, msg.ID)
	}

	select {
	case m.sending <- struct{}{}:
		defer func() { <-m.sending }()
	case <-ctx.Done():
		return channels.Receipt{Retry: true}, fmt.Errorf("modem %s: message %s: %w", m.name, msg.ID, ctx.Err())
	}

	var refs, answers []string
	var sent []sentTo
	finish := func(rc channels.Receipt) channels.Receipt {
		rc.Ref = strings.Join(refs, ",")
		rc.Answer = strings.Join(answers, "; ")
		for _, r := range m.reports.register(rc.Ref, sent) {
			m.emit(r) // reports that came before the send returned
		}
		return rc
	}
	for i, number := range numbers {
		mrs, ans, rc, err := m.sendTo(ctx, number, text)
		answers = append(answers, ans...)
		if len(mrs) > 0 {
			refs = append(refs, mrs...)
			sent = append(sent, sentTo{number: number, mrs: mrs})
		}
		if err != nil {
			if i > 0 {
				err = fmt.Errorf("sent to %s; not to %s: %w", strings.Join(numbers[:i], ", "), number, err)
				rc.Retry = false
			}
			return finish(rc), fmt.Errorf("modem %s: message %s: %w", m.name, msg.ID, err)
		}
	}
	return finish(channels.Receipt{}), nil
}

// sentTo is one recipient's message references.
type sentTo struct {
	number string
	mrs    []string
}

// sendTo sends text to one number, part by part; mrs are the message
// references of the parts that left.
func (m *Modem) sendTo(ctx context.Context, number, text string) (mrs, answers []string, rc channels.Receipt, err error) {
	pdus, cut, err := encodeAtMost(number, text, m.nextConcatRef(), m.cfg.MaxParts, m.cfg.DeliveryReports)
	if err != nil {
		return nil, nil, rc, fmt.Errorf("to %s: %w", number, err)
	}
	if cut {
		m.log.Warn("text cut to fit max_parts", "to", number, "max_parts", m.cfg.MaxParts)
	}
	for k := range pdus {
		part := fmt.Sprintf("to %s: part %d/%d", number, k+1, len(pdus))
		if err := ctx.Err(); err != nil {
			return mrs, answers, channels.Receipt{Retry: true}, fmt.Errorf("%s: %w", part, err)
		}
		hexs, n, err := hexPDU(m.cfg.SMSC, &pdus[k])
		if err != nil {
			return mrs, answers, rc, fmt.Errorf("%s: %w", part, err)
		}
		c, err := m.connect()
		if err != nil {
			rc := channels.Receipt{Retry: true}
			var g *errGone
			if errors.As(err, &g) {
				rc.RetryAfter = g.after
			}
			return mrs, answers, rc, fmt.Errorf("%s: %w", part, err)
		}
		mr, answer, rc, err := m.sendPart(ctx, c, hexs, n)
		if answer != "" {
			answers = append(answers, answer)
		}
		if err != nil {
			return mrs, answers, rc, fmt.Errorf("%s: %w", part, err)
		}
		mrs = append(mrs, mr)
	}
	return mrs, answers, rc, nil
}

// sendPart sends one PDU with AT+CMGS and returns the message reference
// the modem answered.
func (m *Modem) sendPart(ctx context.Context, c *conn, hexs string, n int) (mr, answer string, rc channels.Receipt, err error) {
	type result struct {
		info []string
		err  error
	}
	c.line.submitted.Store(false)
	done := make(chan result, 1)
	go func() {
		info, err := c.at.SMSCommand(fmt.Sprintf("+CMGS=%d", n), hexs, at.WithTimeout(m.cfg.SendTimeout))
		done <- result{info, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// Closing the port ends the command at once.
		m.drop(c, "send abandoned")
		<-done
		return m.lost(c, fmt.Errorf("abandoned: %w", ctx.Err()))
	}
	var cms at.CMSError
	var cme at.CMEError
	switch {
	case r.err == nil:
		for _, l := range r.info {
			if v, ok := strings.CutPrefix(l, "+CMGS:"); ok {
				return strings.TrimSpace(v), l, rc, nil
			}
		}
		// OK without +CMGS: the answer to something else, out of step.
		m.drop(c, "OK without +CMGS to AT+CMGS")
		return m.lost(c, fmt.Errorf("modem answered %q to AT+CMGS, without +CMGS", strings.Join(append(r.info, "OK"), " ")))
	case errors.As(r.err, &cms):
		e := cmsError(string(cms))
		return "", e.Answer, channels.Receipt{Retry: e.Retry}, e
	case errors.As(r.err, &cme):
		return "", "+CME ERROR: " + string(cme), channels.Receipt{Retry: true}, fmt.Errorf("+CME ERROR: %s", string(cme))
	case errors.Is(r.err, at.ErrError):
		return "", "ERROR", channels.Receipt{Retry: true}, errors.New("modem answered ERROR to AT+CMGS")
	case errors.Is(r.err, at.ErrDeadlineExceeded):
		m.drop(c, "no answer to AT+CMGS within send_timeout")
		return m.lost(c, fmt.Errorf("no answer within send_timeout %v", m.cfg.SendTimeout))
	default:
		m.drop(c, r.err.Error())
		return m.lost(c, r.err)
	}
}

// lost is the result of a send whose connection ended before a clear
// answer: unknown if the PDU was written (the modem may have sent it),
// retry otherwise.
func (m *Modem) lost(c *conn, err error) (string, string, channels.Receipt, error) {
	if c.line.submitted.Load() {
		return "", "", channels.Receipt{Unknown: true}, fmt.Errorf("%w; the SMS may have been sent", err)
	}
	return "", "", channels.Receipt{Retry: true}, fmt.Errorf("%w; the SMS was not sent", err)
}
