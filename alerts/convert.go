package alerts

import (
	"maps"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/rules"
)

// FromTransition turns a rules transition into the alarm message to
// publish: To Firing is a firing alarm, Firing to Inactive its
// resolution. Any other transition (pending, pending dropped) is not an
// alarm and yields nil.
func FromTransition(t rules.Transition) *Alarm {
	var state State
	switch {
	case t.To == rules.Firing && t.From != rules.Firing:
		state = Firing
	case t.From == rules.Firing && t.To != rules.Firing:
		state = Resolved
	default:
		return nil
	}
	al := t.Alert
	a := &Alarm{
		Schema:      Schema,
		V:           V,
		Fingerprint: al.Fingerprint,
		Rule:        al.Rule,
		Severity:    al.Severity,
		State:       state,
		Site:        al.Labels[rules.LabelSite],
		Room:        al.Labels[rules.LabelRoom],
		Device:      al.Labels[rules.LabelDevice],
		Profile:     al.Labels[rules.LabelProfile],
		Class:       al.Labels[rules.LabelClass],
		Labels:      maps.Clone(al.Labels),
		Thresholds:  maps.Clone(al.Thresholds),
		Text:        maps.Clone(al.Text),
		ActiveAt:    al.ActiveAt,
		StartedAt:   al.FiredAt,
		UpdatedAt:   t.At,
	}
	if a.Rule == "" {
		a.Rule = al.Labels[rules.LabelRule]
	}
	if a.StartedAt.IsZero() {
		a.StartedAt = t.At
	}
	if state == Resolved {
		end := al.ResolvedAt
		if end.IsZero() {
			end = t.At
		}
		a.EndedAt = &end
	}
	if len(al.Values) > 0 {
		a.Values = make(map[string]Reading, len(al.Values))
		for name, v := range al.Values {
			r := readingOf(v)
			r.Title = al.ValueTitles[name]
			a.Values[name] = r
		}
	}
	a.SiteTitle, a.RoomTitle = al.Titles[rules.LabelSite], al.Titles[rules.LabelRoom]
	if a.Device != "" {
		a.DeviceTitle = al.Titles[rules.LabelDevice]
	}
	a.ID = OccurrenceID(a.Fingerprint, a.StartedAt)
	return a
}

func readingOf(v collectors.Value) Reading {
	r := Reading{Value: v.Num, Unit: v.Unit}
	if v.Kind == collectors.Enum || v.Kind == collectors.Text {
		r.Text = v.Str
	}
	if v.Quality != collectors.Good {
		r.Quality = v.Quality.String()
	}
	return r
}

// ToAlert turns a stored alarm back into the rules engine's Alert, for
// Engine.Restore at start: an active alarm becomes a Firing alert (so it
// is not announced again and its resolution is emitted when the condition
// is found clear), a resolved one an Inactive alert.
func (a *Alarm) ToAlert() rules.Alert {
	al := rules.Alert{
		Rule:        a.Rule,
		Fingerprint: a.Fingerprint,
		Labels:      maps.Clone(a.Labels),
		Severity:    a.Severity,
		State:       rules.Firing,
		ActiveAt:    a.ActiveAt,
		FiredAt:     a.StartedAt,
		LastEval:    a.UpdatedAt,
		Thresholds:  maps.Clone(a.Thresholds),
		Text:        maps.Clone(a.Text),
	}
	if al.Labels == nil {
		al.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		rules.LabelSite: a.Site, rules.LabelRoom: a.Room, rules.LabelDevice: a.Device,
		rules.LabelProfile: a.Profile, rules.LabelClass: a.Class, rules.LabelRule: a.Rule,
	} {
		if _, ok := al.Labels[k]; !ok {
			al.Labels[k] = v
		}
	}
	if al.ActiveAt.IsZero() {
		al.ActiveAt = a.StartedAt
	}
	if !a.Active() {
		al.State = rules.Inactive
		if a.EndedAt != nil {
			al.ResolvedAt = *a.EndedAt
		}
	}
	al.Titles = map[string]collectors.Title{rules.LabelSite: a.SiteTitle, rules.LabelRoom: a.RoomTitle, rules.LabelDevice: a.DeviceTitle}
	if len(a.Values) > 0 {
		al.Values = make(map[string]collectors.Value, len(a.Values))
		al.ValueTitles = make(map[string]collectors.Title, len(a.Values))
		for name, r := range a.Values {
			al.ValueTitles[name] = r.Title
			v := collectors.Value{Name: name, Unit: r.Unit, Num: r.Value, Str: r.Text}
			if r.Text != "" {
				v.Kind = collectors.Enum
			}
			if r.Quality != "" {
				_ = v.Quality.UnmarshalText([]byte(r.Quality))
			}
			al.Values[name] = v
		}
	}
	return al
}

// RestoreAlerts returns the alerts the rules engine must restore from the
// stored alarms: the active ones (firing or acknowledged) of site, or of
// every site when site is empty.
func RestoreAlerts(alarms []*Alarm, site string) []rules.Alert {
	var out []rules.Alert
	for _, a := range alarms {
		if a.Active() && (site == "" || a.Site == site) {
			out = append(out, a.ToAlert())
		}
	}
	return out
}

// Handle is a rules.NotifyFunc: it turns each transition into an alarm
// and publishes it, returning once JetStream stored it or SyncTimeout
// passed (then the publishing goroutine retries it).
func (p *Publisher) Handle(ts []rules.Transition) {
	for _, t := range ts {
		if a := FromTransition(t); a != nil {
			p.deliver(a)
		}
	}
}

var _ rules.NotifyFunc = (*Publisher)(nil).Handle
