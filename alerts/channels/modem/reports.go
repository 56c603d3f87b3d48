package modem

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// earlyFor is how long a status report whose send has not returned yet
// waits for it (the report can overtake the +CMGS answer of a long
// message's last part).
const earlyFor = 10 * time.Minute

// reportBook matches status reports to sends by message reference. A
// modem's references run 0 … 255 and then wrap, so the book holds at
// most 256 entries and a reference reused by a later send replaces the
// older one.
type reportBook struct {
	mu    sync.Mutex
	byMR  map[int]*awaited
	early map[int]early
}

// awaited is one recipient of one send, waiting for the reports of its
// parts.
type awaited struct {
	ref, number string
	left        map[int]bool
	done        bool
}

// early is a report that came before its send was registered.
type early struct {
	st byte
	at time.Time
}

func newReportBook() *reportBook {
	return &reportBook{byMR: map[int]*awaited{}, early: map[int]early{}}
}

// register notes the parts sent under ref and returns the reports that
// this completes (reports that came first).
func (b *reportBook) register(ref string, sent []sentTo) []channels.Inbound {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []channels.Inbound
	for _, s := range sent {
		a := &awaited{ref: ref, number: s.number, left: map[int]bool{}}
		for _, v := range s.mrs {
			mr, err := strconv.Atoi(v)
			if err != nil {
				continue
			}
			a.left[mr] = true
			b.byMR[mr] = a
		}
		for mr := range a.left {
			if e, ok := b.early[mr]; ok && time.Since(e.at) < earlyFor {
				delete(b.early, mr)
				if r := b.resolveLocked(mr, e.st); r != nil {
					out = append(out, *r)
				}
			}
		}
	}
	return out
}

// resolve applies status st to the part with reference mr and returns
// the recipient's report when it is final: the first part that failed,
// or the last part delivered. A status meaning "the centre is still
// trying" is not final.
func (b *reportBook) resolve(mr int, st byte) *channels.Inbound {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.byMR[mr]; !ok {
		for k, e := range b.early {
			if time.Since(e.at) > earlyFor {
				delete(b.early, k)
			}
		}
		b.early[mr] = early{st: st, at: time.Now()}
		return nil
	}
	return b.resolveLocked(mr, st)
}

func (b *reportBook) resolveLocked(mr int, st byte) *channels.Inbound {
	a := b.byMR[mr]
	if a == nil || st >= 0x20 && st < 0x40 {
		return nil
	}
	delete(b.byMR, mr)
	if a.done {
		return nil
	}
	delivered := st < 0x20
	delete(a.left, mr)
	if delivered && len(a.left) > 0 {
		return nil
	}
	a.done = true
	return &channels.Inbound{
		From:   a.number,
		Report: &channels.DeliveryReport{Ref: a.ref, Delivered: delivered, Status: statusText(st)},
	}
}

// statusText describes a TP-ST status (3GPP TS 23.040 §9.2.3.15), Chinese
// first, with its code.
func statusText(st byte) string {
	var s string
	switch {
	case st == 0x00:
		s = "已送达 (received by the handset)"
	case st == 0x01:
		s = "已转发，未确认送达 (forwarded, delivery not confirmed)"
	case st == 0x02:
		s = "已被替换 (replaced by the service centre)"
	case st < 0x20:
		s = "已送达 (delivered)"
	case st < 0x40:
		s = "暂未送达，短信中心仍在重试 (temporary error, the centre is still trying)"
	case st == 0x41:
		s = "接收方不兼容 (incompatible destination)"
	case st == 0x42:
		s = "接收方拒绝 (rejected by the handset)"
	case st == 0x43:
		s = "无法送达 (not obtainable)"
	case st == 0x45:
		s = "无互通 (no interworking available)"
	case st == 0x46:
		s = "有效期已过，未送达 (validity period expired)"
	case st == 0x47:
		s = "被发送方删除 (deleted by the sender)"
	case st == 0x48:
		s = "被短信中心删除 (deleted by the service centre)"
	case st == 0x49:
		s = "短信不存在 (message does not exist)"
	case st >= 0x60:
		s = "未送达，短信中心已放弃 (temporary error, the centre gave up)"
	default:
		s = "未送达 (permanent error)"
	}
	return fmt.Sprintf("%s, TP-ST 0x%02X", s, st)
}
