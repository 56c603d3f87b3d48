package modem

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// reassembly bounds how long the parts of a long received SMS wait for
// the rest.
const reassembly = time.Hour

// rxState is who receives: the handler of a running Receive.
type rxState struct {
	mu        sync.Mutex
	h         func(channels.Inbound)
	collector *sms.Collector
	callMu    sync.Mutex // the handler is called by one goroutine at a time
	readMu    sync.Mutex // stored messages are read by one goroutine at a time
}

func (r *rxState) start(h func(channels.Inbound), log func(string, ...any)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		return false
	}
	r.h = h
	r.collector = sms.NewCollector(sms.WithReassemblyTimeout(reassembly, func(parts []*tpdu.TPDU) {
		log("parts of a long SMS never completed; dropped", "parts", len(parts))
	}))
	return true
}

func (r *rxState) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h = nil
	if r.collector != nil {
		r.collector.Close()
		r.collector = nil
	}
}

func (r *rxState) close() { r.stop() }

// handler returns the running Receive's handler and collector, or nil.
func (r *rxState) handler() (func(channels.Inbound), *sms.Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h, r.collector
}

// emit calls the handler, if any, with in.
func (m *Modem) emit(in channels.Inbound) {
	h, _ := m.rx.handler()
	if h == nil {
		m.log.Info("inbound message with nobody receiving; dropped", "from", in.From, "report", in.Report != nil)
		return
	}
	in.Channel = m.name
	if in.At.IsZero() {
		in.At = time.Now()
	}
	m.rx.callMu.Lock()
	defer m.rx.callMu.Unlock()
	h(in)
}

// Receive keeps the modem connected and calls h for each SMS received
// (From normalised, the parts of a long one joined) and, with
// delivery_reports, for each delivery report, until ctx ends. The modem
// is reopened with back-off whenever it is lost. Messages that came while
// nobody was receiving are read from the SIM when Receive starts. Each
// message is deleted from the SIM once h returned; h is called by one
// goroutine at a time and should not block. Receive returns nil when
// ctx ends or the channel is closed.
func (m *Modem) Receive(ctx context.Context, h func(channels.Inbound)) error {
	if !m.rx.start(h, m.log.Warn) {
		return fmt.Errorf("modem %s: already receiving", m.name)
	}
	defer m.rx.stop()
	var lastErr string
	for {
		c, err := m.connect()
		if err != nil {
			var g *errGone
			if errors.Is(err, errClosed) {
				return nil
			}
			if !errors.As(err, &g) {
				return fmt.Errorf("modem %s: %w", m.name, err)
			}
			if msg := g.err.Error(); msg != lastErr {
				m.log.Warn("modem not reachable; retrying", "err", msg)
				lastErr = msg
			}
			t := time.NewTimer(g.after)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		lastErr = ""
		if done := m.watch(ctx, c); done {
			return nil
		}
	}
}

// watch reads the SIM now and every read_interval until the connection
// is lost (false) or ctx ends (true).
func (m *Modem) watch(ctx context.Context, c *conn) bool {
	tick := time.NewTicker(m.cfg.ReadInterval)
	defer tick.Stop()
	for {
		m.readStored(c)
		select {
		case <-ctx.Done():
			return true
		case <-c.at.Closed():
			return false
		case <-tick.C:
		}
	}
}

// onCMTI handles a new-message indication (+CMTI: "SM",3): the message
// is read, passed on and deleted, when somebody receives.
func (m *Modem) onCMTI(c *conn, info []string) {
	v := strings.TrimPrefix(info[0], "+CMTI:")
	idx, err := strconv.Atoi(strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:]))
	if err != nil {
		m.log.Warn("new-message indication not understood", "line", info[0])
		return
	}
	if h, _ := m.rx.handler(); h == nil {
		return // left on the SIM for the next Receive
	}
	m.rx.readMu.Lock()
	defer m.rx.readMu.Unlock()
	lines, err := c.at.Command(fmt.Sprintf("+CMGR=%d", idx))
	if err != nil {
		m.log.Warn("read received SMS", "command", fmt.Sprintf("AT+CMGR=%d", idx), "err", err)
		return
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "+CMGR:") && i+1 < len(lines) {
			m.take(c, idx, l, lines[i+1])
			return
		}
	}
}

// readStored reads, passes on and deletes every message on the SIM
// (those that came while nobody received, or with indications off).
func (m *Modem) readStored(c *conn) {
	if h, _ := m.rx.handler(); h == nil {
		return
	}
	m.rx.readMu.Lock()
	defer m.rx.readMu.Unlock()
	lines, err := c.at.Command("+CMGL=4")
	if err != nil {
		m.log.Warn("list stored SMS", "command", "AT+CMGL=4", "err", err)
		return
	}
	for i := 0; i+1 < len(lines); i++ {
		v, ok := strings.CutPrefix(lines[i], "+CMGL:")
		if !ok {
			continue
		}
		idx, err := strconv.Atoi(strings.TrimSpace(strings.Split(v, ",")[0]))
		if err != nil {
			m.log.Warn("stored SMS list not understood", "line", lines[i])
			continue
		}
		m.take(c, idx, lines[i], lines[i+1])
		i++
	}
}

// take decodes a stored PDU (head is its +CMGR:/+CMGL: line, which ends
// with the TPDU length), passes it on and deletes it from the SIM. One
// that cannot be decoded is logged verbatim and deleted too, so that it
// does not fill the SIM.
func (m *Modem) take(c *conn, idx int, head, pdu string) {
	n, _ := strconv.Atoi(strings.TrimSpace(head[strings.LastIndexByte(head, ',')+1:]))
	t, err := parsePDU(pdu, n)
	if err != nil {
		m.log.Warn("received SMS not understood; deleted", "index", idx, "head", head, "pdu", pdu, "err", err)
	} else {
		m.pass(t)
	}
	if _, err := c.at.Command(fmt.Sprintf("+CMGD=%d", idx)); err != nil {
		m.log.Warn("delete received SMS", "command", fmt.Sprintf("AT+CMGD=%d", idx), "err", err)
	}
}

// pass hands a received TPDU on: a message once all its parts are in,
// or a status report.
func (m *Modem) pass(t *tpdu.TPDU) {
	switch t.SmsType() {
	case tpdu.SmsDeliver:
		_, col := m.rx.handler()
		if col == nil {
			return
		}
		parts, err := col.Collect(*t)
		if err != nil {
			m.log.Warn("received SMS part not collected", "from", numberOf(t.OA), "err", err)
			return
		}
		if parts == nil {
			return // more parts to come
		}
		text, err := sms.Decode(parts)
		if err != nil {
			m.log.Warn("received SMS not decoded", "from", numberOf(t.OA), "err", err)
			return
		}
		m.emit(channels.Inbound{From: numberOf(parts[0].OA), Text: string(text)})
	case tpdu.SmsStatusReport:
		m.onReport(t)
	default:
		m.log.Info("received PDU of another kind ignored", "type", t.SmsType().String())
	}
}

// onCDS handles a status report indication (+CDS: <length> then the PDU).
func (m *Modem) onCDS(info []string) {
	if len(info) < 2 {
		return
	}
	n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(info[0], "+CDS:")))
	t, err := parsePDU(info[1], n)
	if err != nil {
		m.log.Warn("delivery report not understood", "line", info[0], "pdu", info[1], "err", err)
		return
	}
	m.onReport(t)
}

// onReport matches a status report to its send and passes on the
// recipient's report once it is final for every part.
func (m *Modem) onReport(t *tpdu.TPDU) {
	if r := m.reports.resolve(int(t.MR), t.ST); r != nil {
		m.emit(*r)
	}
}
