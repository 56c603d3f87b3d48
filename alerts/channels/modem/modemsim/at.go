package modemsim

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// state is the modem's settings and its SIM.
type state struct {
	// settings, back to defaults at power-on
	echo    bool
	cmee    int
	cmgf    int
	cnmi    [5]int
	pinOK   bool
	pending int // AT+CMGS=n given, the PDU of n octets awaited

	// the SIM and the test's controls, kept across power-on
	pin      string
	pinTries int
	mr       int
	concat   int
	store    map[int]string // received messages by index: PDU hex
	fail     []int
	delay    time.Duration
	report   int
}

// newState is a modem fresh from the box: delivery reports on (TP-ST 0,
// delivered) for the parts that ask for one.
func newState() state {
	return state{store: map[int]string{}, report: 0}
}

// powerOn resets the settings a modem loses when unplugged.
func (st *state) powerOn() {
	st.echo, st.cmee, st.cmgf, st.cnmi, st.pinOK, st.pending = true, 0, 0, [5]int{}, false, 0
}

// serve reads commands from the client until the port closes.
func (s *Sim) serve(port *os.File, done <-chan struct{}) {
	defer s.wg.Done()
	var line []byte
	inPDU := false
	buf := make([]byte, 512)
	for {
		n, err := port.Read(buf)
		if err != nil {
			return
		}
		for _, b := range buf[:n] {
			switch {
			case inPDU && b == 0x1a: // Ctrl-Z: the PDU is complete
				inPDU = false
				s.submit(port, done, string(line))
				line = line[:0]
			case b == 0x1b: // Esc: cancel
				inPDU = false
				line = line[:0]
			case b == '\r' && !inPDU:
				cmd := string(line)
				line = line[:0]
				inPDU = s.command(port, cmd)
			case b == '\r' || b == '\n':
			default:
				line = append(line, b)
			}
		}
	}
}

// answer writes info lines then the final result.
func (s *Sim) answer(port *os.File, final string, info ...string) {
	var b strings.Builder
	for _, l := range info {
		b.WriteString("\r\n" + l + "\r\n")
	}
	b.WriteString("\r\n" + final + "\r\n")
	s.write(port, b.String())
}

// cms is the +CMS ERROR final result as AT+CMEE asks.
func (st *state) cms(code int) string {
	switch st.cmee {
	case 0:
		return "ERROR"
	case 2:
		return fmt.Sprintf("+CMS ERROR: error %d", code)
	}
	return fmt.Sprintf("+CMS ERROR: %d", code)
}

// cme is the +CME ERROR final result as AT+CMEE asks.
func (st *state) cme(code int) string {
	switch st.cmee {
	case 0:
		return "ERROR"
	case 2:
		return fmt.Sprintf("+CME ERROR: error %d", code)
	}
	return fmt.Sprintf("+CME ERROR: %d", code)
}

// command runs one command line; it returns true when a PDU is expected
// next (AT+CMGS).
func (s *Sim) command(port *os.File, line string) bool {
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	s.mu.Lock()
	st := &s.st
	if st.echo {
		s.write(port, line+"\r")
	}
	final, info, pdu := s.run(st, line)
	s.mu.Unlock()
	if pdu {
		s.write(port, "\r\n> ")
		return true
	}
	s.answer(port, final, info...)
	return false
}

// run interprets a command line with s.mu held: the final result, info
// lines, and whether the PDU prompt is due instead.
func (s *Sim) run(st *state, line string) (final string, info []string, pdu bool) {
	if len(line) < 2 || !strings.EqualFold(line[:2], "AT") {
		return "ERROR", nil, false
	}
	cmd := line[2:]
	up := strings.ToUpper(cmd)
	arg := func(prefix string) (string, bool) {
		if strings.HasPrefix(up, prefix) {
			return cmd[len(prefix):], true
		}
		return "", false
	}
	num := func(v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return -1
		}
		return n
	}
	simReady := st.pin == "" || st.pinOK
	switch {
	case up == "" || up == "+CNMA" || strings.HasPrefix(up, "+CPMS") || strings.HasPrefix(up, "+CSMS") || strings.HasPrefix(up, "+CSCS"):
		return "OK", nil, false
	case up == "Z":
		st.echo, st.cmee, st.cnmi = true, 0, [5]int{}
		return "OK", nil, false
	case up == "E0" || up == "E1":
		st.echo = up == "E1"
		return "OK", nil, false
	case up == "I":
		return "OK", []string{"roomwatch modemsim"}, false
	case up == "+GCAP":
		return "OK", []string{"+GCAP: +CGSM"}, false
	case up == "+CSQ":
		return "OK", []string{"+CSQ: 23,99"}, false
	case up == "+CSCA?":
		return "OK", []string{`+CSCA: "+8613800100500",145`}, false
	case up == "+CPIN?":
		if simReady {
			return "OK", []string{"+CPIN: READY"}, false
		}
		return "OK", []string{"+CPIN: SIM PIN"}, false
	case up == "+CMGF?":
		return "OK", []string{fmt.Sprintf("+CMGF: %d", st.cmgf)}, false
	}
	if v, ok := arg("+CMEE="); ok && num(v) >= 0 && num(v) <= 2 {
		st.cmee = num(v)
		return "OK", nil, false
	}
	if v, ok := arg("+CMGF="); ok && (num(v) == 0 || num(v) == 1) {
		st.cmgf = num(v)
		return "OK", nil, false
	}
	if v, ok := arg("+CPIN="); ok {
		st.pinTries++
		if st.pin != "" && strings.Trim(v, `"`) == st.pin {
			st.pinOK = true
			return "OK", nil, false
		}
		return st.cme(16), nil, false // incorrect password
	}
	if v, ok := arg("+CNMI="); ok {
		var c [5]int
		for i, f := range strings.Split(v, ",") {
			if i < 5 {
				c[i] = max(num(f), 0)
			}
		}
		st.cnmi = c
		return "OK", nil, false
	}
	if !simReady && strings.HasPrefix(up, "+CMG") {
		return st.cms(311), nil, false // SIM PIN required
	}
	if v, ok := arg("+CMGS="); ok {
		if st.cmgf != 0 {
			return st.cms(303), nil, false // this simulator speaks PDU mode only
		}
		n := num(v)
		if n < 7 || n > 164 {
			return st.cms(304), nil, false
		}
		st.pending = n
		return "", nil, true
	}
	if v, ok := arg("+CMGR="); ok {
		idx := num(v)
		pdu, found := st.store[idx]
		if !found {
			return st.cms(321), nil, false
		}
		return "OK", []string{fmt.Sprintf("+CMGR: 0,,%d", tpduLen(pdu)) + "\r\n" + pdu}, false
	}
	if _, ok := arg("+CMGL"); ok {
		idxs := make([]int, 0, len(st.store))
		for i := range st.store {
			idxs = append(idxs, i)
		}
		sort.Ints(idxs)
		for _, i := range idxs {
			info = append(info, fmt.Sprintf("+CMGL: %d,0,,%d", i, tpduLen(st.store[i]))+"\r\n"+st.store[i])
		}
		return "OK", info, false
	}
	if v, ok := arg("+CMGD="); ok {
		f := strings.Split(v, ",")
		if len(f) > 1 && num(f[1]) > 0 {
			clear(st.store)
			s.changedLocked()
			return "OK", nil, false
		}
		if _, found := st.store[num(f[0])]; !found {
			return st.cms(321), nil, false
		}
		delete(st.store, num(f[0]))
		s.changedLocked()
		return "OK", nil, false
	}
	return "ERROR", nil, false
}

// submit takes the PDU given after the prompt: it is recorded, then
// refused (FailNext), or sent and answered +CMGS (after the send delay),
// followed by a delivery report when one was asked for.
func (s *Sim) submit(port *os.File, done <-chan struct{}, hexs string) {
	s.mu.Lock()
	n := s.st.pending
	s.st.pending = 0
	p, err := decodeSubmit(hexs, n)
	p.At = time.Now()
	var final string
	var complete *SMS
	switch {
	case err != nil:
		p.Err = err.Error()
		final = s.st.cms(304)
	case len(s.st.fail) > 0 && s.st.fail[0] != 0:
		p.Rejected = s.st.fail[0]
		s.st.fail = s.st.fail[1:]
		final = s.st.cms(p.Rejected)
	default:
		if len(s.st.fail) > 0 {
			s.st.fail = s.st.fail[1:] // 0: this one goes through
		}
		s.st.mr = s.st.mr%255 + 1
		p.MR = s.st.mr
		complete = s.collect(&p)
	}
	s.pdus = append(s.pdus, p)
	if complete != nil {
		s.msgs = append(s.msgs, *complete)
	}
	s.changedLocked()
	delay, report, cnmi, onSMS := s.st.delay, s.st.report, s.st.cnmi, append([]func(SMS){}, s.onSMS...)
	s.mu.Unlock()
	if complete != nil {
		for _, f := range onSMS {
			f(*complete)
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-done:
			t.Stop()
			return
		case <-t.C:
		}
	}
	if final != "" {
		s.answer(port, final)
		return
	}
	s.answer(port, "OK", fmt.Sprintf("+CMGS: %d", p.MR))
	if p.SRR && cnmi[3] == 1 && report >= 0 {
		if r, err := statusReport(p.MR, p.To, byte(report)); err == nil {
			s.write(port, fmt.Sprintf("\r\n+CDS: %d\r\n%s\r\n", tpduLen(r), r))
		}
	}
}

// collect adds a sent part and returns the message it completes, if any.
// s.mu is held.
func (s *Sim) collect(p *PDU) *SMS {
	if p.Parts <= 1 {
		return &SMS{To: p.To, Text: p.Text, Encoding: p.Encoding, Parts: []PDU{*p}}
	}
	key := fmt.Sprintf("%s/%d/%d", p.To, p.ConcatRef, p.Parts)
	parts := s.parts[key]
	if parts == nil {
		parts = make([]*PDU, p.Parts)
		s.parts[key] = parts
	}
	if p.Seq < 1 || p.Seq > p.Parts || parts[p.Seq-1] != nil {
		p.Err = fmt.Sprintf("part %d of %d with reference %d given twice or out of range", p.Seq, p.Parts, p.ConcatRef)
		return nil
	}
	parts[p.Seq-1] = p
	m := SMS{To: p.To, Encoding: p.Encoding, ConcatRef: p.ConcatRef}
	for _, q := range parts {
		if q == nil {
			return nil
		}
		m.Parts = append(m.Parts, *q)
		m.Text += q.Text
	}
	delete(s.parts, key)
	return &m
}

// Inject delivers an SMS from a number to the modem: it is stored on the
// SIM (several parts when long) and announced with +CMTI when the client
// asked for new-message indications (AT+CNMI=…,1,…).
func (s *Sim) Inject(from, text string) error {
	s.mu.Lock()
	s.st.concat = s.st.concat%255 + 1
	pdus, err := encodeDeliver(from, text, s.st.concat)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var idxs []int
	for _, pdu := range pdus {
		idx := 1
		for s.st.store[idx] != "" {
			idx++
		}
		s.st.store[idx] = pdu
		idxs = append(idxs, idx)
	}
	notify := s.st.cnmi[1] > 0
	s.changedLocked()
	s.mu.Unlock()
	if notify {
		for _, idx := range idxs {
			s.unsolicited(fmt.Sprintf(`+CMTI: "SM",%d`, idx))
		}
	}
	return nil
}

// Stored is how many messages wait on the SIM.
func (s *Sim) Stored() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.store)
}

// Report sends a delivery report for the part with message reference mr
// to number, with status st.
func (s *Sim) Report(mr int, number string, st byte) error {
	r, err := statusReport(mr, number, st)
	if err != nil {
		return err
	}
	s.unsolicited(fmt.Sprintf("+CDS: %d\r\n%s", tpduLen(r), r))
	return nil
}
