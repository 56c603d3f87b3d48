package modem

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// address is a TP-DA/TP-OA for a number in channels.PhoneNumber form: international when it
// has a +, "unknown" type otherwise, which the network reads as a national
// number (sms.To would mark 13800138000 international, i.e. country 1).
func address(number string) tpdu.Address {
	a := tpdu.Address{Addr: strings.TrimPrefix(number, "+")}
	a.SetTypeOfNumber(tpdu.TonUnknown)
	if strings.HasPrefix(number, "+") {
		a.SetTypeOfNumber(tpdu.TonInternational)
	}
	a.SetNumberingPlan(tpdu.NpISDN)
	a.TOA |= 0x80
	return a
}

// numberOf is the normalised number of a received address.
func numberOf(a tpdu.Address) string {
	if n, err := channels.PhoneNumber(a.Number()); err == nil {
		return n
	}
	return a.Number() // alphanumeric senders ("10086", "China Mobile") as given
}

// fixed is a tpdu.Counter that always yields its value: the concatenation
// reference chosen for one message, or 0 for TP-MR (the modem assigns the
// message reference it returns in +CMGS).
type fixed int

func (f fixed) Count() int { return int(f) }

// encode returns the SMS-SUBMIT TPDUs of text to number: GSM 7-bit when
// the text allows it, UCS-2 otherwise (any Chinese), split into
// concatenated parts that carry concatRef when it does not fit in one.
// srr asks for a status report of each part.
func encode(number, text string, concatRef int, srr bool) ([]tpdu.TPDU, error) {
	e := sms.NewEncoder(sms.AsSubmit, sms.WithTemplateOption(tpdu.WithDA(address(number))))
	e.MsgCount = fixed(0)
	e.ConcatRef = fixed(concatRef)
	pdus, err := e.Encode([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("encode SMS: %w", err)
	}
	if len(pdus) == 0 {
		return nil, fmt.Errorf("encode SMS: empty text")
	}
	if srr {
		for i := range pdus {
			pdus[i].FirstOctet |= tpdu.FoSRR
		}
	}
	return pdus, nil
}

// encodeAtMost encodes text in at most max parts, cutting it (and ending
// it with "…") when it is longer; cut reports whether it did.
func encodeAtMost(number, text string, concatRef, max int, srr bool) (pdus []tpdu.TPDU, cut bool, err error) {
	pdus, err = encode(number, text, concatRef, srr)
	for err == nil && len(pdus) > max {
		cut = true
		n := utf8.RuneCountInString(text)
		keep := n*max/len(pdus) - 2
		if keep < 1 {
			keep = 1
		}
		text = string([]rune(text)[:keep]) + "…"
		pdus, err = encode(number, text, concatRef, srr)
	}
	return pdus, cut, err
}

// hexPDU is a TPDU as the modem takes it in PDU mode: the service centre
// address (empty: the SIM's) then the TPDU, in hex; n is the TPDU's
// length for AT+CMGS=n.
func hexPDU(smsc string, t *tpdu.TPDU) (s string, n int, err error) {
	b, err := t.MarshalBinary()
	if err != nil {
		return "", 0, fmt.Errorf("encode SMS: %w", err)
	}
	p := pdumode.PDU{TPDU: b}
	if smsc != "" {
		p.SMSC = pdumode.SMSCAddress{Address: address(smsc)}
	}
	s, err = p.MarshalHexString()
	if err != nil {
		return "", 0, fmt.Errorf("encode SMS: %w", err)
	}
	return strings.ToUpper(s), len(b), nil
}

// parsePDU decodes a PDU the modem gives (+CMGR, +CMGL, +CDS): hex, the
// service centre address, then an SMS-DELIVER or SMS-STATUS-REPORT TPDU.
// n is the TPDU length the modem announced, checked when positive.
func parsePDU(hexs string, n int) (*tpdu.TPDU, error) {
	p, err := pdumode.UnmarshalHexString(strings.TrimSpace(hexs))
	if err != nil {
		return nil, fmt.Errorf("PDU %q: %w", hexs, err)
	}
	if n > 0 && n != len(p.TPDU) {
		return nil, fmt.Errorf("PDU %q: length %d announced, %d given", hexs, n, len(p.TPDU))
	}
	t, err := sms.Unmarshal(p.TPDU, sms.AsMT)
	if err != nil {
		return nil, fmt.Errorf("PDU %q: %w", hexs, err)
	}
	return t, nil
}

// Parts splits text as this channel sends it, one string per SMS part: a
// Chinese text fits 70 characters in one SMS, or 67 per part when it
// takes several (the concatenation header takes the rest); plain ASCII
// 160, or 153 per part. The notifier uses it to keep the worst line in
// the first part.
func Parts(text string) []string {
	pdus, err := encode("10086", text, 1, false)
	if err != nil {
		return []string{text}
	}
	out := make([]string, 0, len(pdus))
	for i := range pdus {
		b, err := sms.Decode([]*tpdu.TPDU{&pdus[i]})
		if err != nil {
			return []string{text}
		}
		out = append(out, string(b))
	}
	return out
}
