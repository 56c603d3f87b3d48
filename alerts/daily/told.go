package daily

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// ObserveDelivery records who was told of which alarms: each alarm the
// delivery tells of, in the records of its room that list it, gets the
// delivery as one Told entry (a later record of the same notification,
// person and channel — a retry, a delivery report — updates it).
func (r *Recorder) ObserveDelivery(d *alerts.Delivery) {
	if d == nil || d.Site == "" {
		return
	}
	t := Told{Delivery: d.ID, Kind: d.Kind, Level: d.Level, Person: d.Person, Channel: d.Channel,
		Result: d.Result, Attempt: d.Attempt, At: d.At}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, rec := range r.records {
		if k.site != d.Site || (d.Room != "" && k.room != d.Room) {
			continue
		}
		for i := range rec.Alarms {
			e := &rec.Alarms[i]
			if !slices.Contains(d.AlarmIDs, e.ID) {
				continue
			}
			j := slices.IndexFunc(e.Told, func(x Told) bool {
				return x.Delivery == t.Delivery && x.Person == t.Person && x.Channel == t.Channel
			})
			switch {
			case j < 0:
				e.Told = append(e.Told, t)
			case !t.At.Before(e.Told[j].At):
				e.Told[j] = t
			default:
				continue
			}
			rec.touch(d.At)
			rec.mark(eventChange) // who was told is signed for
		}
	}
}

// FollowDeliveries folds the notifier's delivery records of sites (the
// stream alerts.DeliveryStream, which the notifier creates) into the
// records, from since (the start of the day before: a restart reads them
// again, which changes nothing) until ctx ends. While the stream does not
// exist it looks again every retry. It returns when ctx ends.
func (r *Recorder) FollowDeliveries(ctx context.Context, js jetstream.JetStream, sites []string, since time.Time, retry time.Duration) {
	subjects := make([]string, len(sites))
	for i, s := range sites {
		subjects[i] = alerts.DeliverySubjectPrefix + "." + alerts.Token(s) + ".>"
	}
	wait := func() bool {
		t := time.NewTimer(retry)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for ctx.Err() == nil {
		start := since
		cons, err := js.OrderedConsumer(ctx, alerts.DeliveryStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		})
		if err != nil {
			if !errors.Is(err, jetstream.ErrStreamNotFound) && ctx.Err() == nil {
				r.log.Warn("delivery records not readable, trying again", "stream", alerts.DeliveryStream, "err", err)
			}
			if !wait() {
				return
			}
			continue
		}
		it, err := cons.Messages()
		if err != nil {
			if !wait() {
				return
			}
			continue
		}
		stop := context.AfterFunc(ctx, it.Stop)
		for {
			m, err := it.Next()
			if err != nil {
				break
			}
			var d alerts.Delivery
			if err := json.Unmarshal(m.Data(), &d); err != nil || d.Schema != alerts.DeliverySchema {
				r.log.Warn("delivery record skipped", "subject", m.Subject(), "err", err)
				continue
			}
			r.ObserveDelivery(&d)
			if md, err := m.Metadata(); err == nil {
				since = md.Timestamp
			}
		}
		stop()
		it.Stop()
		if !wait() {
			return
		}
	}
}
