package modem

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

func TestEncodeAddressesAndAlphabets(t *testing.T) {
	for _, tc := range []struct {
		number, text string
		ton          tpdu.TypeOfNumber
		alpha        tpdu.Alphabet
		parts        int
	}{
		{"13800138000", "ACK 1234", tpdu.TonUnknown, tpdu.Alpha7Bit, 1},
		{"+8613800138000", "市电中断", tpdu.TonInternational, tpdu.AlphaUCS2, 1},
		{"13800138000", strings.Repeat("温", 70), tpdu.TonUnknown, tpdu.AlphaUCS2, 1},
		{"13800138000", strings.Repeat("温", 71), tpdu.TonUnknown, tpdu.AlphaUCS2, 2},
		{"13800138000", strings.Repeat("t", 161), tpdu.TonUnknown, tpdu.Alpha7Bit, 2},
	} {
		pdus, err := encode(tc.number, tc.text, 77, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(pdus) != tc.parts {
			t.Errorf("%q: %d parts, want %d", tc.text, len(pdus), tc.parts)
		}
		var ps []*tpdu.TPDU
		for i := range pdus {
			p := &pdus[i]
			ps = append(ps, p)
			if a, _ := p.Alphabet(); a != tc.alpha || p.DA.TypeOfNumber() != tc.ton || !p.FirstOctet.SRR() || p.MR != 0 {
				t.Errorf("%q part %d: alphabet %v, TON %v, SRR %v, MR %d", tc.text, i+1, a, p.DA.TypeOfNumber(), p.FirstOctet.SRR(), p.MR)
			}
			if _, _, ref, ok := p.ConcatInfo(); ok && ref != 77 {
				t.Errorf("%q part %d: concatenation reference %d, want 77", tc.text, i+1, ref)
			}
			// The hex the modem gets decodes back to the same TPDU.
			h, n, err := hexPDU("+8613800100500", p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := p.MarshalBinary()
			if n != len(b) || !strings.HasPrefix(h, "0891683108100005F0") {
				t.Errorf("%q part %d: hex %s, length %d", tc.text, i+1, h, n)
			}
		}
		if got, err := sms.Decode(ps); err != nil || string(got) != tc.text {
			t.Errorf("%q decodes to %q, %v", tc.text, got, err)
		}
	}
}

func TestEncodeAtMostCutsLongTexts(t *testing.T) {
	text := strings.Repeat("机房温度过高。", 100) // 700 characters, 11 parts
	pdus, cut, err := encodeAtMost("13800138000", text, 5, 3, false)
	if err != nil || !cut || len(pdus) != 3 {
		t.Fatalf("%d parts, cut %v, %v; want 3 parts, cut", len(pdus), cut, err)
	}
	var ps []*tpdu.TPDU
	for i := range pdus {
		ps = append(ps, &pdus[i])
	}
	got, _ := sms.Decode(ps)
	if !strings.HasSuffix(string(got), "…") || !strings.HasPrefix(text, strings.TrimSuffix(string(got), "…")) || utf8.RuneCount(got) < 150 {
		t.Errorf("cut text %q", got)
	}
	if _, cut, _ := encodeAtMost("13800138000", "短", 5, 1, false); cut {
		t.Error("a short text was cut")
	}
}

func TestCMSErrorTable(t *testing.T) {
	for v, want := range map[string]CMSError{
		"42":            {Code: 42, Answer: "+CMS ERROR: 42", Meaning: "网络拥塞 (congestion)", Retry: true},
		"1":             {Code: 1, Answer: "+CMS ERROR: 1", Meaning: "号码不存在 (unassigned number)", Retry: false},
		"999":           {Code: 999, Answer: "+CMS ERROR: 999", Meaning: "未列出的错误码 (code 999 not in the table)", Retry: true},
		" SIM failure ": {Answer: "+CMS ERROR: SIM failure", Retry: true},
	} {
		if got := cmsError(v); *got != want {
			t.Errorf("cmsError(%q) = %+v, want %+v", v, *got, want)
		}
	}
}

func TestReportBook(t *testing.T) {
	b := newReportBook()
	// A report that overtakes its send's return waits for it.
	if r := b.resolve(7, 0x00); r != nil {
		t.Fatalf("report of an unknown send passed on: %+v", r)
	}
	out := b.register("7,8", []sentTo{{number: "13800138000", mrs: []string{"7", "8"}}})
	if len(out) != 0 {
		t.Fatalf("report passed on before all parts were reported: %+v", out)
	}
	if r := b.resolve(8, 0x21); r != nil {
		t.Fatalf("a temporary status is not final: %+v", r)
	}
	r := b.resolve(8, 0x00)
	if r == nil || r.Report.Ref != "7,8" || !r.Report.Delivered || r.From != "13800138000" {
		t.Fatalf("report %+v", r)
	}
	// A failed part fails the message at once; later parts add nothing.
	b.register("9,10", []sentTo{{number: "+8613800138000", mrs: []string{"9", "10"}}})
	if r := b.resolve(9, 0x46); r == nil || r.Report.Delivered || !strings.Contains(r.Report.Status, "0x46") {
		t.Fatalf("failed part: %+v", r)
	}
	if r := b.resolve(10, 0x00); r != nil {
		t.Errorf("second report for a failed message: %+v", r.Report)
	}
}

func TestParts(t *testing.T) {
	for _, tc := range []struct {
		text  string
		sizes []int
	}{
		{strings.Repeat("电", 70), []int{70}},
		{strings.Repeat("电", 71), []int{67, 4}},
		{chinese150, []int{67, 67, 16}},
		{strings.Repeat("a", 160), []int{160}},
		{strings.Repeat("a", 161), []int{153, 8}},
	} {
		parts := Parts(tc.text)
		var sizes []int
		for _, p := range parts {
			sizes = append(sizes, utf8.RuneCountInString(p))
		}
		if strings.Join(parts, "") != tc.text || len(sizes) != len(tc.sizes) {
			t.Errorf("%d characters: parts of %v, want %v", utf8.RuneCountInString(tc.text), sizes, tc.sizes)
			continue
		}
		for i := range sizes {
			if sizes[i] != tc.sizes[i] {
				t.Errorf("%d characters: parts of %v, want %v", utf8.RuneCountInString(tc.text), sizes, tc.sizes)
				break
			}
		}
	}
}
