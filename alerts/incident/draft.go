package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
)

// Event kinds of a report's timeline.
const (
	EventAlarm        = "alarm"        // an alarm message: firing, acknowledged or resolved
	EventNotification = "notification" // a delivery attempt (alerts.Delivery)
	EventAck          = "ack"          // an acknowledgement (alerts.Ack)
	EventOpened       = "opened"       // the incident opened: the clocks start
	EventResolved     = "resolved"     // the episode's last alarm resolved
)

// Event is one line of a report's timeline.
type Event struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	AlarmID string    `json:"alarm_id,omitempty"`
	// State is the alarm's state (alarm events) or the delivery's result.
	State string `json:"state,omitempty"`
	// Who: the person told (notification) or who acknowledged (ack).
	Who     string `json:"who,omitempty"`
	Channel string `json:"channel,omitempty"` // channel name, or the ack's way (sms, patrol…)
	// Text by language: the alarm's text, or a line made here.
	Text map[string]string `json:"text,omitempty"`
}

// Fact is one figure of the day's record quoted in a report.
type Fact struct {
	Label map[string]string `json:"label"`
	Value string            `json:"value"`
}

// Draft is an incident report as drafted from the record: the incident,
// its timeline and the day's facts. Missing names the sources that could
// not be read (a delivery stream not set up), so the reader knows.
type Draft struct {
	Incident  Incident  `json:"incident"`
	Timeline  []Event   `json:"timeline"`
	Facts     []Fact    `json:"facts,omitempty"`
	Missing   []string  `json:"missing,omitempty"`
	DraftedAt time.Time `json:"drafted_at"`
}

// Draft drafts the report of incident id of site at now: the alarm
// messages of its episode from the site's alarm stream, the notifications
// (ROOMWATCH_DELIVERIES) and acknowledgements (ROOMWATCH_ACKS) of those
// alarms, the opening and the resolution, in time order, and the facts of
// the room's daily record of the day the incident opened.
func (s *Store) Draft(ctx context.Context, site, id string, alarms alerts.Config, now time.Time) (*Draft, error) {
	in, err := s.Get(ctx, site, id)
	if err != nil {
		return nil, err
	}
	alarms.Defaults()
	d := &Draft{Incident: *in, DraftedAt: now}
	ids := in.alarmIDs()
	since := in.StartedAt.Add(-time.Minute)
	loc := s.cfg.location()

	read := func(stream, subject string, f func([]byte)) {
		err := readStream(ctx, s.js, stream, subject, since, f)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			d.Missing = append(d.Missing, stream)
		} else if err != nil {
			d.Missing = append(d.Missing, fmt.Sprintf("%s (%v)", stream, err))
		}
	}
	read(alerts.AlarmStreamName(alarms.StreamPrefix, site), alerts.AlarmSubjectPrefix+"."+alerts.Token(site)+"."+alerts.Token(in.Room)+".*",
		func(b []byte) {
			a, err := alerts.Unmarshal(b)
			if err != nil || !ids[a.ID] {
				return
			}
			d.Timeline = append(d.Timeline, Event{At: a.UpdatedAt, Kind: EventAlarm, AlarmID: a.ID, State: string(a.State), Who: a.AckBy, Text: a.Text})
		})
	read(alerts.DeliveryStream, alerts.DeliverySubject(site, in.Room), func(b []byte) {
		var v alerts.Delivery
		if json.Unmarshal(b, &v) != nil || !slices.ContainsFunc(v.AlarmIDs, func(id string) bool { return ids[id] }) {
			return
		}
		d.Timeline = append(d.Timeline, Event{At: v.At, Kind: EventNotification, AlarmID: v.AlarmIDs[0], State: v.Result, Who: v.Person, Channel: v.Channel,
			Text: map[string]string{
				"zh": fmt.Sprintf("通知 %s（%s，%s）：%s", v.Person, v.Channel, v.Kind, resultZh(v.Result)),
				"en": fmt.Sprintf("told %s (%s, %s): %s", v.Person, v.Channel, v.Kind, v.Result),
			}})
	})
	read(alerts.AckStream, alerts.AckSubject(site, in.Room), func(b []byte) {
		k, err := alerts.UnmarshalAck(b)
		if err != nil || !ids[k.AlarmID] {
			return
		}
		d.Timeline = append(d.Timeline, Event{At: k.At, Kind: EventAck, AlarmID: k.AlarmID, Who: k.By, Channel: k.Via,
			Text: map[string]string{
				"zh": fmt.Sprintf("%s 确认告警（%s）%s", k.By, k.Via, note(k.Comment, "：")),
				"en": fmt.Sprintf("acknowledged by %s (%s)%s", k.By, k.Via, note(k.Comment, ": ")),
			}})
	})
	name := func(lang string) string { return incidentName(in, lang) }
	d.Timeline = append(d.Timeline, Event{At: in.OpenedAt, Kind: EventOpened, Text: map[string]string{
		"zh": "事件成立：" + name("zh") + "，报告时限开始计算",
		"en": "incident opened: " + name("en") + ", reporting clocks start",
	}})
	if in.ResolvedAt != nil {
		d.Timeline = append(d.Timeline, Event{At: *in.ResolvedAt, Kind: EventResolved, Text: map[string]string{
			"zh": "告警全部恢复", "en": "all alarms resolved",
		}})
	}
	slices.SortStableFunc(d.Timeline, func(a, b Event) int { return a.At.Compare(b.At) })
	if s.daily != nil {
		date := in.OpenedAt.In(loc).Format(time.DateOnly)
		if rec, err := daily.Load(ctx, s.daily, site, in.Room, date); err == nil {
			d.Facts = facts(rec)
		} else {
			d.Missing = append(d.Missing, "daily record "+date)
		}
	}
	return d, nil
}

func note(s, sep string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func resultZh(r string) string {
	switch r {
	case alerts.DeliverySent:
		return "已发出"
	case alerts.DeliveryFailed:
		return "发送失败"
	case alerts.DeliveryUnknown:
		return "结果未知"
	case alerts.DeliveryDead:
		return "放弃发送"
	case alerts.DeliveryReport:
		return "已送达"
	}
	return r
}

// facts quotes the day's summary.
func facts(r *daily.Record) []Fact {
	s := r.Summary
	f := func(zh, en, v string) Fact { return Fact{Label: map[string]string{"zh": zh, "en": en}, Value: v} }
	return []Fact{
		f("日期", "date", r.Date),
		f("市电中断次数", "mains-loss episodes", fmt.Sprint(s.MainsLossEpisodes)),
		f("市电中断时长", "time on battery", fmt.Sprintf("%.0f min", s.MainsLossS/60)),
		f("环境超限时长", "time out of range", fmt.Sprintf("%.0f min", s.OutOfRangeS/60)),
		f("通信中断时长", "device comms lost", fmt.Sprintf("%.0f min", s.CommsLostS/60)),
		f("门禁开启次数（非工作时间）", "door openings (after hours)", fmt.Sprintf("%d (%d)", s.DoorOpenings, s.AfterHoursOpenings)),
		f("当日告警", "alarms of the day", fmt.Sprint(s.Alarms)),
	}
}

// readStream calls f with the data of every message of stream on subject
// stored since since, through an ordered consumer, until the end.
func readStream(ctx context.Context, js jetstream.JetStream, stream, subject string, since time.Time, f func([]byte)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &since,
	})
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	if info.NumPending == 0 {
		return nil
	}
	for {
		m, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			return err
		}
		f(m.Data())
		md, err := m.Metadata()
		if err != nil || md.NumPending == 0 {
			return err
		}
	}
}
