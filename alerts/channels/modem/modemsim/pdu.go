package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// smsc is the service centre the simulated network puts in what it
// delivers.
const smsc = "8613800100500"

// PDU is one PDU a client gave to AT+CMGS, decoded.
type PDU struct {
	Hex       string    // as given, SMSC included
	At        time.Time // when it was given
	To        string    // the destination, + for an international number
	Encoding  string    // "GSM 7-bit", "UCS-2" or "8-bit"
	Text      string    // this part's text
	Parts     int       // parts of its message (1: not concatenated)
	Seq       int       // this part's number, from 1
	ConcatRef int       // the concatenation reference shared by the parts
	SRR       bool      // a status report was asked for
	MR        int       // the message reference answered (+CMGS), 0 if refused
	Rejected  int       // the +CMS ERROR code it was refused with, or 0
	Err       string    // why it could not be decoded
}

// SMS is one complete message a client sent: its parts joined.
type SMS struct {
	To        string
	Text      string
	Encoding  string
	ConcatRef int // 0 when in one part
	Parts     []PDU
}

// String is how `roomwatch sim` prints a received SMS.
func (m SMS) String() string {
	how := m.Encoding
	if len(m.Parts) > 1 {
		how = fmt.Sprintf("%s, %d 条拼接, 参考号 %d", m.Encoding, len(m.Parts), m.ConcatRef)
	}
	return fmt.Sprintf("短信 → %s (%s): %s", m.To, how, m.Text)
}

// decodeSubmit decodes a PDU given to AT+CMGS=n: the SMSC, then an
// SMS-SUBMIT of n octets. The PDU is returned with what could be decoded.
func decodeSubmit(hexs string, n int) (PDU, error) {
	p := PDU{Hex: hexs, Parts: 1, Seq: 1}
	pm, err := pdumode.UnmarshalHexString(strings.TrimSpace(hexs))
	if err != nil {
		return p, fmt.Errorf("not a PDU: %w", err)
	}
	if len(pm.TPDU) != n {
		return p, fmt.Errorf("AT+CMGS=%d, but the TPDU has %d octets", n, len(pm.TPDU))
	}
	t, err := sms.Unmarshal(pm.TPDU, sms.AsMO)
	if err != nil {
		return p, fmt.Errorf("not an SMS-SUBMIT: %w", err)
	}
	if t.SmsType() != tpdu.SmsSubmit {
		return p, fmt.Errorf("a %s, not an SMS-SUBMIT", t.SmsType())
	}
	p.To = t.DA.Number()
	p.SRR = t.FirstOctet.SRR()
	if a, err := t.Alphabet(); err == nil {
		p.Encoding = map[tpdu.Alphabet]string{tpdu.Alpha7Bit: "GSM 7-bit", tpdu.AlphaUCS2: "UCS-2", tpdu.Alpha8Bit: "8-bit"}[a]
	}
	if parts, seq, ref, ok := t.ConcatInfo(); ok {
		p.Parts, p.Seq, p.ConcatRef = parts, seq, ref
	}
	text, err := sms.Decode([]*tpdu.TPDU{t})
	if err != nil {
		return p, fmt.Errorf("user data: %w", err)
	}
	p.Text = string(text)
	return p, nil
}

// address is an OA/RA for number: international with a +, unknown type
// (national) without.
func address(number string) tpdu.Address {
	a := tpdu.Address{Addr: strings.TrimPrefix(number, "+")}
	if strings.HasPrefix(number, "+") {
		a.SetTypeOfNumber(tpdu.TonInternational)
	}
	a.SetNumberingPlan(tpdu.NpISDN)
	a.TOA |= 0x80
	return a
}

// withSMSC wraps a TPDU as the modem gives it: SMSC then TPDU, in hex.
func withSMSC(t *tpdu.TPDU) (string, error) {
	b, err := t.MarshalBinary()
	if err != nil {
		return "", err
	}
	sc := address("+" + smsc)
	s, err := (&pdumode.PDU{SMSC: pdumode.SMSCAddress{Address: sc}, TPDU: b}).MarshalHexString()
	return strings.ToUpper(s), err
}

// tpduLen is the TPDU length of a hex PDU with its SMSC, as +CMGR and
// +CDS announce it.
func tpduLen(hexs string) int {
	b, err := hex.DecodeString(hexs)
	if err != nil || len(b) == 0 {
		return 0
	}
	return len(b) - 1 - int(b[0])
}

// encodeDeliver returns the SMS-DELIVER PDUs (hex, SMSC included) of
// text from a number, concatenated with reference ref when long.
func encodeDeliver(from, text string, ref int) ([]string, error) {
	e := sms.NewEncoder(sms.AsDeliver, sms.WithTemplateOption(tpdu.WithOA(address(from))))
	e.ConcatRef = counter(ref)
	ts, err := e.Encode([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("modem simulator: encode SMS from %s: %w", from, err)
	}
	now := tpdu.Timestamp{Time: time.Now().Truncate(time.Second)}
	var out []string
	for i := range ts {
		ts[i].SCTS = now
		h, err := withSMSC(&ts[i])
		if err != nil {
			return nil, fmt.Errorf("modem simulator: encode SMS from %s: %w", from, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// statusReport is an SMS-STATUS-REPORT PDU (hex, SMSC included) for the
// part with reference mr sent to number.
func statusReport(mr int, number string, st byte) (string, error) {
	now := tpdu.Timestamp{Time: time.Now().Truncate(time.Second)}
	t := tpdu.TPDU{Direction: tpdu.MT, MR: byte(mr), RA: address(number), SCTS: now, DT: now, ST: st}
	t.FirstOctet = t.FirstOctet.WithMTI(tpdu.MtCommand)
	return withSMSC(&t)
}

// counter is a tpdu.Counter that yields one value.
type counter int

func (c counter) Count() int { return int(c) }
