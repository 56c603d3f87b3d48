package notify

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts"
)

// beat is what the dead man's switch knows of a site's monitor.
type beat struct {
	last   time.Time // when the latest heartbeat arrived (or the notifier started)
	lastAt time.Time // the monitor's own time in it (names the silence)
	paged  bool      // the silence was paged and recovery not yet announced
}

// heartbeat notes a monitor's heartbeat.
func (n *Notifier) heartbeat(m *nats.Msg) {
	var h alerts.Heartbeat
	if err := json.Unmarshal(m.Data, &h); err != nil || h.Site == "" {
		return
	}
	n.mu.Lock()
	b := n.beats[h.Site]
	if b == nil {
		n.mu.Unlock()
		return
	}
	recovered := b.paged
	silentSince := b.lastAt
	b.last, b.lastAt, b.paged = n.now(), h.At, false
	n.mu.Unlock()
	if recovered {
		n.page(h.Site, KindDeadMan, "deadman."+alerts.KeyToken(h.Site)+"."+stamp(silentSince)+".ok", true,
			fmt.Sprintf("%s 监控已恢复心跳（%s）", h.Site, h.At.In(n.cfg.Location()).Format("01-02 15:04:05")))
	}
}

// deadman pages the person on duty for every site silent longer than
// the configured time, once per silence.
func (n *Notifier) deadman(now time.Time) {
	if n.cfg.DeadMan.Silence <= 0 {
		return
	}
	type silent struct {
		site   string
		since  time.Time
		lastAt time.Time
	}
	var pages []silent
	n.mu.Lock()
	for site, b := range n.beats {
		if !b.paged && now.Sub(b.last) >= n.cfg.DeadMan.Silence {
			b.paged = true
			pages = append(pages, silent{site, b.last, b.lastAt})
		}
	}
	n.mu.Unlock()
	for _, s := range pages {
		last := "启动以来未收到"
		if !s.lastAt.IsZero() {
			last = "最后一次 " + s.lastAt.In(n.cfg.Location()).Format("01-02 15:04:05")
		}
		n.log.Error("dead man's switch: site silent", "site", s.site, "since", s.since)
		// A silence is named by the last heartbeat, the same for every
		// instance; a monitor never heard is paged once a day.
		name := stamp(s.lastAt)
		if s.lastAt.IsZero() {
			name += "-" + now.In(n.cfg.Location()).Format("20060102")
		}
		n.page(s.site, KindDeadMan, "deadman."+alerts.KeyToken(s.site)+"."+name, false,
			fmt.Sprintf("%s 监控已 %s 无心跳（%s），请检查监控主机", s.site, now.Sub(s.since).Round(time.Second), last))
	}
}

// stamp names a time in keys ("never" for the zero time).
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("20060102T150405Z")
}

// page tells the dead man's switch targets (or the self-test's) a
// notifier message of its own.
func (n *Notifier) page(site, kind, key string, recovered bool, text string) {
	to := n.cfg.DeadMan.To
	if kind == KindSelfTest && n.cfg.SelfTest != nil {
		to = n.cfg.SelfTest.To
	}
	now := n.now()
	it := item{Key: key, Site: site, Severity: alerts.Critical, Kind: kind, Text: text, At: now}
	if recovered || kind == KindSelfTest {
		it.Severity = alerts.Major
	}
	targets := n.cfg.Targets(to, now, map[string]string{KindDeadMan: "监控失联", KindSelfTest: "每日自检"}[kind])
	n.dispatchStep(it, targets, func() {})
}

// selftest sends the daily self-test once a day at the configured time.
func (n *Notifier) selftest(now time.Time) {
	s := n.cfg.SelfTest
	if s == nil {
		return
	}
	local := now.In(n.cfg.Location())
	day := local.Format(time.DateOnly)
	if minutes(local) < s.at {
		return
	}
	n.mu.Lock()
	if n.selfDay == day {
		n.mu.Unlock()
		return
	}
	n.selfDay = day
	n.mu.Unlock()
	site := ""
	if len(n.cfg.Sites) > 0 {
		site = n.cfg.Sites[0]
	}
	n.page(site, KindSelfTest, "selftest."+day, false,
		fmt.Sprintf("roomwatch 每日自检 %s：告警通知通路正常，收到即说明短信/消息可达", day))
}
