package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/channels"
)

// deliver makes one attempt at job j on worker w: claim each item, send
// the claimed ones as one message, record the attempt, then mark the
// claims, retry with back-off, or give up (dead letter).
func (n *Notifier) deliver(ctx context.Context, w *worker, j *job) {
	now := n.now()
	var claimed []item
	var keys []string
	var revs []uint64
	var busy time.Time
	for _, it := range j.items {
		key := it.Key + "." + alerts.KeyToken(j.target.Key) + "." + alerts.KeyToken(w.name)
		rev, ok, until, err := n.sent.claim(ctx, key, now)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("claim: bucket unavailable, retrying", "key", key, "err", err)
			j.notBefore = now.Add(time.Second)
			w.push(j)
			return
		}
		if until.After(busy) {
			busy = until
		}
		if ok {
			claimed, keys, revs = append(claimed, it), append(keys, key), append(revs, rev)
		}
	}
	if !busy.IsZero() {
		// Another instance is sending part of this; its claim lapses if it
		// died. Try again then (keeping ours).
		j.notBefore = busy
		w.push(j)
		return
	}
	if len(claimed) == 0 {
		j.done()
		return
	}
	nid := notificationID(keys)
	msg, err := render(n.cfg.tmpl, nid, claimed, j.target)
	if err != nil {
		n.log.Error("render", "err", err)
		j.done()
		return
	}
	sctx, cancel := context.WithTimeout(ctx, max(n.cfg.ClaimLease/2, time.Second))
	rc, err := w.ch.Send(sctx, &msg)
	cancel()
	if err != nil && ctx.Err() != nil {
		return // stopping: the claim lapses and the message is sent again
	}
	j.attempt++
	d := alerts.Delivery{
		Schema: alerts.DeliverySchema, ID: nid, Site: claimed[0].Site, Room: claimed[0].Room,
		Kind: j.kind, Level: claimed[0].Level, Person: j.target.Key, Address: j.target.Address(),
		Channel: w.name, Answer: rc.Answer, Attempt: j.attempt, At: n.now(),
	}
	for _, it := range claimed {
		if it.AlarmID != "" {
			d.AlarmIDs = append(d.AlarmIDs, it.AlarmID)
		}
	}
	state := ""
	switch {
	case err == nil:
		d.Result, state = alerts.DeliverySent, claimSent
	case rc.Unknown:
		d.Result, d.Error, state = alerts.DeliveryUnknown, err.Error(), claimUnknown
	default:
		d.Error = err.Error()
		if wait, again := n.cfg.Retry.Next(j.attempt, rc); again && rc.Retry {
			d.Result = alerts.DeliveryFailed
			n.record(ctx, d)
			n.log.Warn("send failed, will retry", "channel", w.name, "to", j.target.Key, "attempt", j.attempt, "in", wait, "err", err)
			j.notBefore = n.now().Add(wait)
			w.push(j)
			return
		}
		d.Result, state = alerts.DeliveryDead, claimDead
	}
	n.record(ctx, d)
	for i, k := range keys {
		if err := n.sent.mark(ctx, k, revs[i], state, nid, n.now()); err != nil {
			n.log.Warn("sent bucket: mark", "key", k, "state", state, "err", err)
		}
	}
	if state == claimDead {
		n.log.Error("send given up: dead letter", "channel", w.name, "to", j.target.Key, "attempts", j.attempt, "err", err)
		n.deadLetter(ctx, d, msg)
		n.channelFailing(ctx, w.name, d)
	} else {
		n.channelWorks(ctx, w.name)
	}
	j.done()
}

// notificationID names a send by what it claims.
func notificationID(keys []string) string {
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return "n-" + hex.EncodeToString(h[:8])
}

// record publishes a delivery record; a record that cannot be stored is
// logged (the send itself is done).
func (n *Notifier) record(ctx context.Context, d alerts.Delivery) {
	data, _ := json.Marshal(d)
	m := nats.NewMsg(alerts.DeliverySubject(d.Site, d.Room))
	m.Data = data
	m.Header.Set("Roomwatch-Schema", alerts.DeliverySchema)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := n.js.PublishMsg(rctx, m); err != nil {
		n.log.Error("delivery record not stored", "notification", d.ID, "result", d.Result, "err", err)
	}
}

// deadLetter keeps a send given up, with its message, on the site's dead
// letter subject.
func (n *Notifier) deadLetter(ctx context.Context, d alerts.Delivery, m channels.Message) {
	data, _ := json.Marshal(struct {
		Delivery alerts.Delivery  `json:"delivery"`
		Message  channels.Message `json:"message"`
	}{d, m})
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := n.js.Publish(rctx, DeadLetterSubject(d.Site), data); err != nil {
		n.log.Error("dead letter not stored", "notification", d.ID, "err", err)
	}
}

// RuleChannelFailing is the rule name of the notifier's own alarm about a
// channel whose sends are given up.
const RuleChannelFailing = "notify-channel-failing"

// channelFailing raises notify-channel-failing for the channel on the
// site's alarm stream, once until the channel works again; the notifier
// then tells people of it over their other channels.
func (n *Notifier) channelFailing(ctx context.Context, channel string, d alerts.Delivery) {
	site := d.Site
	if site == "" && len(n.cfg.Sites) > 0 {
		site = n.cfg.Sites[0]
	}
	if site == "" {
		return
	}
	k := site + "/" + channel
	n.mu.Lock()
	if n.failing[k] != nil {
		n.mu.Unlock()
		return
	}
	now := n.now().UTC()
	a := &alerts.Alarm{
		Fingerprint: "notify-" + alerts.KeyToken(site) + "-" + alerts.KeyToken(channel),
		Rule:        RuleChannelFailing, Severity: alerts.Major, State: alerts.Firing,
		Site: site, Room: "notify", Device: channel, Class: "notifier",
		Labels:   map[string]string{"site": site, "room": "notify", "channel": channel},
		ActiveAt: now, StartedAt: now, UpdatedAt: now,
		Text: map[string]string{
			"zh": "通知渠道 " + channel + " 发送失败：" + fit(d.Error, 60),
			"en": "Notification channel " + channel + " failing: " + fit(d.Error, 60),
		},
	}
	n.failing[k] = a
	n.mu.Unlock()
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := n.pub.Publish(pctx, a.Clone()); err != nil {
		n.log.Error("notify-channel-failing alarm not published", "channel", channel, "err", err)
	}
}

// channelWorks resolves the channel's notify-channel-failing alarms.
func (n *Notifier) channelWorks(ctx context.Context, channel string) {
	n.mu.Lock()
	var open []*alerts.Alarm
	for k, a := range n.failing {
		if strings.HasSuffix(k, "/"+channel) {
			open = append(open, a)
			delete(n.failing, k)
		}
	}
	n.mu.Unlock()
	for _, a := range open {
		r := a.Clone()
		r.Resolve(n.now().UTC())
		r.Text = map[string]string{"zh": "通知渠道 " + channel + " 已恢复", "en": "Notification channel " + channel + " works again"}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if _, err := n.pub.Publish(pctx, r); err != nil {
			n.log.Error("notify-channel-failing resolution not published", "channel", channel, "err", err)
		}
		cancel()
	}
}
