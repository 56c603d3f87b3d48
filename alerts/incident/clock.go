package incident

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/rules"
)

// Rules of the alarms the tracker raises, both severity major.
const (
	// RuleDue: a reporting deadline runs out soon.
	RuleDue = "incident-report-due"
	// RuleOverdue: a reporting deadline has passed unreported.
	RuleOverdue = "incident-report-overdue"
)

// clock raises or resolves the reminder and overdue alarms of the
// incident under key at now. It reports true when nothing is left to do.
// Called with mu held.
func (t *Tracker) clock(ctx context.Context, key string) (bool, error) {
	in, _, err := t.store.get(ctx, key)
	if err != nil {
		return false, err
	}
	now := t.opt.Now()
	for i := range in.Deadlines {
		d := &in.Deadlines[i]
		switch {
		case in.Signed != nil:
			if (d.RemindedAt == nil && d.OverdueAt == nil) || d.ClearedAt != nil {
				continue
			}
			if d.RemindedAt != nil && d.OverdueAt == nil { // else resolved when it became overdue
				if err := t.publish(ctx, in, d, RuleDue, now, true); err != nil {
					return false, err
				}
			}
			if d.OverdueAt != nil {
				if err := t.publish(ctx, in, d, RuleOverdue, now, true); err != nil {
					return false, err
				}
			}
			if err := t.mark(ctx, key, d.Kind, func(d *Deadline) **time.Time { return &d.ClearedAt }, now); err != nil {
				return false, err
			}
		case !now.Before(d.Due):
			if d.OverdueAt != nil {
				continue
			}
			if d.RemindedAt != nil {
				if err := t.publish(ctx, in, d, RuleDue, now, true); err != nil {
					return false, err
				}
			}
			if err := t.publish(ctx, in, d, RuleOverdue, now, false); err != nil {
				return false, err
			}
			if err := t.mark(ctx, key, d.Kind, func(d *Deadline) **time.Time { return &d.OverdueAt }, now); err != nil {
				return false, err
			}
		case !now.Before(d.remindAt(t.cfg.RemindBefore)):
			if d.RemindedAt != nil {
				continue
			}
			if err := t.publish(ctx, in, d, RuleDue, now, false); err != nil {
				return false, err
			}
			if err := t.mark(ctx, key, d.Kind, func(d *Deadline) **time.Time { return &d.RemindedAt }, now); err != nil {
				return false, err
			}
		}
	}
	if in.Signed == nil {
		return false, nil
	}
	in, _, err = t.store.get(ctx, key)
	return err == nil && clocksDone(in), err
}

// mark sets the time field of deadline kind to at (once).
func (t *Tracker) mark(ctx context.Context, key, kind string, field func(*Deadline) **time.Time, at time.Time) error {
	_, err := t.store.update(ctx, key, func(in *Incident) (bool, error) {
		d := in.Deadline(kind)
		if d == nil || *field(d) != nil {
			return false, nil
		}
		*field(d) = &at
		in.UpdatedAt = at
		return true, nil
	})
	return err
}

// publish raises (or, resolve, ends) the reminder or overdue alarm of
// deadline d. The occurrence starts at the reminder time or the due
// time, so publishing again after a restart is stored once.
func (t *Tracker) publish(ctx context.Context, in *Incident, d *Deadline, rule string, now time.Time, resolve bool) error {
	a := t.ReminderAlarm(in, d, rule, now)
	if resolve {
		a.Resolve(now)
		a.Text = map[string]string{
			"zh": fmt.Sprintf("【恢复】%s：%s已签字", incidentName(in, "zh"), kindLabel(d, "zh")),
			"en": fmt.Sprintf("[RESOLVED] %s: %s signed", incidentName(in, "en"), kindLabel(d, "en")),
		}
	}
	if _, err := t.pub.Publish(ctx, a); err != nil {
		return fmt.Errorf("incident %s: %s %s: %w", in.ID, rule, d.Kind, err)
	}
	return nil
}

// ReminderAlarm returns the firing reminder (RuleDue) or overdue alarm
// (RuleOverdue) of deadline d of in, as made at now.
func (t *Tracker) ReminderAlarm(in *Incident, d *Deadline, rule string, now time.Time) *alerts.Alarm {
	started := d.Due
	if rule == RuleDue {
		started = d.remindAt(t.cfg.RemindBefore)
	}
	left := math.Ceil(d.Due.Sub(now).Minutes())
	loc := t.cfg.location()
	zh, en := "", ""
	if rule == RuleDue {
		zh = fmt.Sprintf("【重要】事件报告即将到期：%s，%s须于 %s 前完成（剩余 %.0f 分钟），负责人：%s。事件编号 %s",
			incidentName(in, "zh"), kindLabel(d, "zh"), zhTime(d.Due, loc), left, d.Responsible, in.ID)
		en = fmt.Sprintf("[MAJOR] Incident report due: %s, %s due by %s (%.0f min left), responsible: %s. Incident %s",
			incidentName(in, "en"), kindLabel(d, "en"), enTime(d.Due, loc), left, d.Responsible, in.ID)
	} else {
		zh = fmt.Sprintf("【重要】事件报告已逾期：%s，%s应于 %s 前完成，已超时 %.0f 分钟，负责人：%s。事件编号 %s",
			incidentName(in, "zh"), kindLabel(d, "zh"), zhTime(d.Due, loc), -left, d.Responsible, in.ID)
		en = fmt.Sprintf("[MAJOR] Incident report overdue: %s, %s was due by %s, %.0f min late, responsible: %s. Incident %s",
			incidentName(in, "en"), kindLabel(d, "en"), enTime(d.Due, loc), -left, d.Responsible, in.ID)
	}
	return &alerts.Alarm{
		Schema: alerts.Schema, V: alerts.V,
		Fingerprint: rules.Fingerprint(rule, in.Site, in.Room, in.ID+"/"+d.Kind),
		Rule:        rule, Severity: alerts.Major, State: alerts.Firing,
		Site: in.Site, Room: in.Room,
		Labels: map[string]string{rules.LabelSite: in.Site, rules.LabelRoom: in.Room, rules.LabelRule: rule,
			"incident": in.ID, "deadline": d.Kind},
		Values: map[string]alerts.Reading{
			"minutes_left": {Value: left, Unit: "min"},
			"deadline_min": {Value: d.WithinMin, Unit: "min"},
		},
		ActiveAt: started, StartedAt: started, UpdatedAt: now,
		Text: map[string]string{"zh": zh, "en": en},
	}
}

// incidentName is "一号机房「市电中断…」" / "Room 1 “mains lost…”".
func incidentName(in *Incident, lang string) string {
	room := title(in.RoomTitle, in.Room, lang)
	if lang == "zh" {
		return room + "「" + title(in.Title, in.Class, "zh") + "」"
	}
	return room + " “" + title(in.Title, in.Class, "en") + "”"
}

// kindLabel names a deadline: "国家规定的 1 小时报告" / "the 1 h national report".
func kindLabel(d *Deadline, lang string) string {
	w := d.Within()
	if lang == "zh" {
		if d.Kind == National {
			return "国家规定的 " + zhDur(w) + "报告"
		}
		return "院内 " + zhDur(w) + "报告"
	}
	if d.Kind == National {
		return "the " + enDur(w) + " national report"
	}
	return "the hospital's " + enDur(w) + " report"
}

func zhDur(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d 小时", int(d.Hours()))
	}
	return fmt.Sprintf("%.0f 分钟", d.Minutes())
}

func enDur(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%.0f min", d.Minutes())
}

// title picks lang from m, then zh, then en, then fallback.
func title(m map[string]string, fallback, lang string) string {
	for _, l := range []string{lang, "zh", "en"} {
		if s := m[l]; s != "" {
			return s
		}
	}
	return fallback
}

// zhTime is "12月1日 11:15"; enTime "Dec 1 11:15", both in loc.
func zhTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf("%d月%d日 %02d:%02d", t.Month(), t.Day(), t.Hour(), t.Minute())
}

func enTime(t time.Time, loc *time.Location) string { return t.In(loc).Format("Jan 2 15:04") }
