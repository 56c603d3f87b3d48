package patrol

import (
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
)

// Verdicts of an item.
const (
	VerdictOK       = "ok"
	VerdictAbnormal = "abnormal"
	VerdictNoData   = "nodata"
)

// Item is one line of the checklist: a verdict and its evidence.
type Item struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Device   string        `json:"device,omitempty"`
	Verdict  string        `json:"verdict"`
	Evidence []string      `json:"evidence"`
	Chart    template.HTML `json:"-"`
	// ChartNote says what the chart can and cannot show.
	ChartNote string `json:"chart_note,omitempty"`
}

// Section is a group of the paper form (power, environment…).
type Section struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Items []Item `json:"items"`
}

// AlarmRow is one alarm of the day with who was told and who
// acknowledged.
type AlarmRow struct {
	ID          string   `json:"id"`
	Fingerprint string   `json:"fingerprint"`
	Rule        string   `json:"rule"`
	Severity    string   `json:"severity"`
	SeverityT   string   `json:"severity_text"`
	State       string   `json:"state"`
	Device      string   `json:"device,omitempty"`
	Text        string   `json:"text"`
	Started     string   `json:"started"`
	Ended       string   `json:"ended,omitempty"`
	AckBy       string   `json:"ack_by,omitempty"`
	AckAt       string   `json:"ack_at,omitempty"`
	Told        []string `json:"told"`
	// Ackable: not acknowledged yet.
	Ackable bool `json:"ackable"`
}

// RecordView is a room's day as the screen shows it.
type RecordView struct {
	Site     string     `json:"site"`
	Room     string     `json:"room"`
	Title    string     `json:"title"`
	Date     string     `json:"date"`
	HasData  bool       `json:"has_data"`
	Updated  string     `json:"updated,omitempty"`
	Stale    string     `json:"stale,omitempty"`
	Sections []Section  `json:"sections"`
	Alarms   []AlarmRow `json:"alarms"`
	// Verdicts maps every automatic item to its verdict (signed with the
	// record); Abnormal counts the abnormal ones.
	Verdicts map[string]string `json:"verdicts"`
	Abnormal int               `json:"abnormal"`
}

// viewer builds views in one language and zone.
type viewer struct {
	lang string
	loc  *time.Location
	now  time.Time
}

func (v viewer) hm(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.loc).Format("15:04")
}

func (v viewer) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.loc).Format("2006-01-02 15:04")
}

// buildRecord turns a daily record (nil: none yet) and the deliveries of
// the day into the checklist.
func buildRecord(rec *daily.Record, room *Room, deliveries []alerts.Delivery, lang string, now time.Time) *RecordView {
	v := viewer{lang: lang, loc: room.Loc, now: now}
	rv := &RecordView{Site: room.Site, Room: room.Name, Title: room.Label(lang), Verdicts: map[string]string{}}
	if rec == nil {
		rv.Sections = []Section{{ID: "none", Title: tr(lang, "no_record")}}
		return rv
	}
	rv.Date, rv.HasData = rec.Date, true
	rv.Updated = v.stamp(rec.UpdatedAt)
	if now.Before(rec.To) && now.Sub(rec.UpdatedAt) > 10*time.Minute {
		rv.Stale = tr(lang, "stale", v.stamp(rec.UpdatedAt))
	}
	names := make([]string, 0, len(rec.Devices))
	for n := range rec.Devices {
		names = append(names, n)
	}
	sort.Strings(names)

	rv.Sections = []Section{
		v.power(rec, names, room),
		v.env(rec, names),
		v.discreteSection(rec, names, "spd", "sec_spd", "spd_fault"),
		v.doors(rec, names),
		v.discreteSection(rec, names, "water", "sec_water", "water_leak", "smoke"),
		v.comms(rec, names),
	}
	var alarmItem Item
	rv.Alarms, alarmItem = v.alarms(rec, deliveries)
	rv.Sections = append(rv.Sections, Section{ID: "alarms", Title: tr(lang, "sec_alarms"), Items: []Item{alarmItem}})
	for _, s := range rv.Sections {
		for _, it := range s.Items {
			rv.Verdicts[it.ID] = it.Verdict
			if it.Verdict == VerdictAbnormal {
				rv.Abnormal++
			}
		}
	}
	return rv
}

func noDevice(id, lang string) Item {
	return Item{ID: id, Title: tr(lang, "no_device"), Verdict: VerdictNoData}
}

// check is a UPS value the patrol judges against a band when the record
// carries none.
type check struct {
	name, title string
	lo, hi      *float64
}

func f(x float64) *float64 { return &x }

var upsChecks = []check{
	{"charge_pct", "item_charge", f(80), nil},
	{"load_pct", "item_load", nil, f(80)},
	{"battery_temp_c", "item_batt_temp", f(15), f(30)},
}

func (v viewer) power(rec *daily.Record, names []string, room *Room) Section {
	s := Section{ID: "power", Title: tr(v.lang, "sec_power")}
	for _, n := range names {
		d := rec.Devices[n]
		if d.Class != "ups" && d.Mains == nil {
			continue
		}
		id := "power." + n
		// Mains or battery now.
		src := Item{ID: id + ".source", Title: tr(v.lang, "item_source"), Device: n, Verdict: VerdictNoData}
		loss := Item{ID: id + ".mains_loss", Title: tr(v.lang, "item_mains_loss"), Device: n, Verdict: VerdictNoData}
		if m := d.Mains; m != nil {
			src.Verdict = VerdictOK
			src.Evidence = []string{tr(v.lang, "on_mains")}
			var spans []span
			for _, e := range m.Episodes {
				end := d.LastPollAt
				endS := tr(v.lang, "continues")
				if e.End != nil {
					end, endS = *e.End, v.hm(*e.End)
				}
				spans = append(spans, span{e.Start, end})
				loss.Evidence = append(loss.Evidence, tr(v.lang, "episode", v.hm(e.Start), endS, secs(v.lang, e.DurationS)))
				if e.End == nil {
					src.Verdict = VerdictAbnormal
					src.Evidence = []string{tr(v.lang, "on_battery_since", v.hm(e.Start))}
				}
			}
			if m.OnBattery && src.Verdict != VerdictAbnormal {
				src.Verdict, src.Evidence = VerdictAbnormal, []string{tr(v.lang, "on_battery_since", "—")}
			}
			loss.Verdict = VerdictOK
			if len(m.Episodes) > 0 {
				loss.Verdict = VerdictAbnormal
				loss.Evidence = append([]string{tr(v.lang, "episodes", len(m.Episodes), secs(v.lang, m.BatteryS))}, loss.Evidence...)
			} else {
				loss.Evidence = []string{tr(v.lang, "no_episode")}
			}
			loss.Chart, loss.ChartNote = timelineChart(spans, rec.From, rec.To), tr(v.lang, "chart_timeline")
		}
		s.Items = append(s.Items, src, loss)
		// Runtime left against the carry time.
		rt := Item{ID: id + ".runtime", Title: tr(v.lang, "item_runtime"), Device: n, Verdict: VerdictNoData}
		if a := d.Analog["runtime_min"]; a != nil && a.Count > 0 {
			left := time.Duration(a.Last * float64(time.Minute))
			rt.Verdict = VerdictOK
			if room.CarryTime > 0 {
				rt.Evidence = append(rt.Evidence, tr(v.lang, "runtime_vs", dur(v.lang, left), dur(v.lang, room.CarryTime)))
				if left < room.CarryTime {
					rt.Verdict = VerdictAbnormal
				}
			} else {
				rt.Evidence = append(rt.Evidence, tr(v.lang, "runtime_nocarry", dur(v.lang, left)))
			}
			rt.Evidence = append(rt.Evidence, tr(v.lang, "runtime_min", dur(v.lang, time.Duration(a.Min*float64(time.Minute))), v.hm(a.MinAt)))
			rt.Chart, rt.ChartNote = analogChart(a, rec.From, rec.To), tr(v.lang, analogNote(a))
		}
		s.Items = append(s.Items, rt)
		for _, c := range upsChecks {
			s.Items = append(s.Items, v.analog(id+"."+c.name, tr(v.lang, c.title), n, d.Analog[c.name], &daily.Range{Min: c.lo, Max: c.hi}, rec))
		}
	}
	if len(s.Items) == 0 {
		s.Items = []Item{noDevice("power", v.lang)}
	}
	return s
}

// analog judges one value against its band (the record's, else def).
func (v viewer) analog(id, title, dev string, a *daily.Analog, def *daily.Range, rec *daily.Record) Item {
	it := Item{ID: id, Title: title, Device: dev, Verdict: VerdictNoData}
	if a == nil || a.Count == 0 {
		return it
	}
	r := a.Range
	if r == nil && def != nil && (def.Min != nil || def.Max != nil) {
		r = def
		c := *a
		c.Range = def
		a = &c
	}
	it.Verdict = VerdictOK
	it.Evidence = []string{tr(v.lang, "now_min_max", num(a.Last, a.Unit), num(a.Min, a.Unit), v.hm(a.MinAt), num(a.Max, a.Unit), v.hm(a.MaxAt))}
	if r != nil {
		it.Evidence = append(it.Evidence, tr(v.lang, "range", rangeText(r, a.Unit)))
		if !r.Contains(a.Last) || (a.Range != nil && a.OutOfRangeS > 0) || (a.Range == nil && (!r.Contains(a.Min) || !r.Contains(a.Max))) {
			it.Verdict = VerdictAbnormal
		}
		if a.OutOfRangeS > 0 {
			it.Evidence = append(it.Evidence, tr(v.lang, "out_of_range", secs(v.lang, a.OutOfRangeS), a.Excursions))
		} else if a.Range != nil {
			it.Evidence = append(it.Evidence, tr(v.lang, "in_range"))
		}
	}
	if a.Faults > 0 {
		it.Verdict = VerdictAbnormal
		it.Evidence = append(it.Evidence, tr(v.lang, "faults", a.Faults))
	}
	it.Chart, it.ChartNote = analogChart(a, rec.From, rec.To), tr(v.lang, analogNote(a))
	return it
}

func rangeText(r *daily.Range, unit string) string {
	switch {
	case r.Min != nil && r.Max != nil:
		return num(*r.Min, unit) + " – " + num(*r.Max, unit)
	case r.Min != nil:
		return "≥ " + num(*r.Min, unit)
	case r.Max != nil:
		return "≤ " + num(*r.Max, unit)
	}
	return ""
}

func (v viewer) env(rec *daily.Record, names []string) Section {
	s := Section{ID: "env", Title: tr(v.lang, "sec_env")}
	for _, n := range names {
		d := rec.Devices[n]
		if d.Class == "ups" {
			continue
		}
		for _, name := range []string{"temperature_c", "humidity_pct"} {
			if a := d.Analog[name]; a != nil {
				s.Items = append(s.Items, v.analog("env."+n+"."+name, tr(v.lang, "item_"+strings.TrimSuffix(strings.TrimSuffix(name, "_c"), "_pct")), n, a, nil, rec))
			}
		}
	}
	if len(s.Items) == 0 {
		s.Items = []Item{noDevice("env", v.lang)}
	}
	return s
}

// discreteSection judges bool sensors (spd_fault, water_leak, smoke).
func (v viewer) discreteSection(rec *daily.Record, names []string, id, title string, kinds ...string) Section {
	s := Section{ID: id, Title: tr(v.lang, title)}
	for _, kind := range kinds {
		found := false
		for _, n := range names {
			x := rec.Devices[n].Discrete[kind]
			if x == nil {
				continue
			}
			found = true
			it := Item{ID: id + "." + n + "." + kind, Title: tr(v.lang, "item_"+kind), Device: n, Verdict: VerdictOK}
			it.Evidence = []string{tr(v.lang, "discrete_state", tr(v.lang, "state_"+x.Worst), tr(v.lang, "state_"+x.Last))}
			if x.Worst != daily.StateOK {
				it.Verdict = VerdictAbnormal
			}
			if x.AlarmCount > 0 {
				first := ""
				if x.FirstAlarmAt != nil {
					first = v.hm(*x.FirstAlarmAt)
				}
				it.Evidence = append(it.Evidence, tr(v.lang, "discrete_alarm", x.AlarmCount, secs(v.lang, x.AlarmS), first))
			}
			s.Items = append(s.Items, it)
		}
		if !found {
			s.Items = append(s.Items, Item{ID: id + "." + kind, Title: tr(v.lang, "item_"+kind), Verdict: VerdictNoData, Evidence: []string{tr(v.lang, "no_device")}})
		}
	}
	return s
}

func (v viewer) doors(rec *daily.Record, names []string) Section {
	s := Section{ID: "door", Title: tr(v.lang, "sec_door")}
	for _, n := range names {
		d := rec.Devices[n].Door
		if d == nil {
			continue
		}
		it := Item{ID: "door." + n, Title: tr(v.lang, "item_door"), Device: n, Verdict: VerdictOK}
		it.Evidence = []string{tr(v.lang, "door_counts", d.Openings, d.AfterHours, secs(v.lang, d.OpenS))}
		if d.LastOpenedAt != nil {
			it.Evidence = append(it.Evidence, tr(v.lang, "door_last", v.hm(*d.LastOpenedAt)))
		}
		if d.AfterHours > 0 {
			it.Verdict = VerdictAbnormal
		}
		if d.Open {
			it.Verdict = VerdictAbnormal
			it.Evidence = append(it.Evidence, tr(v.lang, "door_open_now"))
		}
		s.Items = append(s.Items, it)
	}
	if len(s.Items) == 0 {
		s.Items = []Item{noDevice("door", v.lang)}
	}
	return s
}

func (v viewer) comms(rec *daily.Record, names []string) Section {
	s := Section{ID: "comms", Title: tr(v.lang, "sec_comms")}
	for _, n := range names {
		d := rec.Devices[n]
		it := Item{ID: "comms." + n, Title: tr(v.lang, "item_comms"), Device: n, Verdict: VerdictOK}
		state := tr(v.lang, "reachable")
		if !d.Reachable {
			state = tr(v.lang, "unreachable")
			it.Verdict = VerdictAbnormal
		}
		if d.CommsLostS > 0 {
			it.Verdict = VerdictAbnormal
		}
		it.Evidence = []string{
			tr(v.lang, "comms", fmt.Sprintf("%.2f %%", d.Availability*100), secs(v.lang, d.CommsLostS), state),
			tr(v.lang, "last_poll", v.stamp(d.LastPollAt)),
		}
		s.Items = append(s.Items, it)
	}
	if len(s.Items) == 0 {
		s.Items = []Item{noDevice("comms", v.lang)}
	}
	return s
}

func (v viewer) alarms(rec *daily.Record, deliveries []alerts.Delivery) ([]AlarmRow, Item) {
	it := Item{ID: "alarms", Title: tr(v.lang, "item_alarms"), Verdict: VerdictOK}
	told := map[string][]string{}
	for _, d := range deliveries {
		if d.Kind == "selftest" || d.Kind == "deadman" {
			continue
		}
		who := d.Person
		if who == "" {
			who = d.Address
		}
		line := fmt.Sprintf("%s %s %s (%s)", v.hm(d.At), who, d.Channel, d.Result)
		for _, id := range d.AlarmIDs {
			if !slices.Contains(told[id], line) {
				told[id] = append(told[id], line)
			}
		}
	}
	var rows []AlarmRow
	active, unacked := 0, 0
	for _, a := range rec.Alarms {
		row := AlarmRow{
			ID: a.ID, Fingerprint: a.Fingerprint, Rule: a.Rule, Severity: string(a.Severity),
			SeverityT: tr(v.lang, "sev_"+string(a.Severity)), State: string(a.State), Device: a.Device,
			Text: pickText(a.Text, v.lang, a.Rule), Started: v.hm(a.StartedAt), AckBy: a.AckBy, Told: told[a.ID],
			Ackable: a.AckAt == nil,
		}
		if a.EndedAt != nil {
			row.Ended = v.hm(*a.EndedAt)
		}
		if a.AckAt != nil {
			row.AckAt = v.hm(*a.AckAt)
		} else {
			unacked++
		}
		if a.State != alerts.Resolved {
			active++
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		it.Evidence = []string{tr(v.lang, "no_alarms")}
	} else {
		it.Evidence = []string{tr(v.lang, "alarm_counts", len(rows), active, unacked)}
	}
	if active > 0 || unacked > 0 {
		it.Verdict = VerdictAbnormal
	}
	return rows, it
}

func pickText(text map[string]string, lang, fallback string) string {
	for _, l := range []string{lang, LangZH, LangEN} {
		if s := text[l]; s != "" {
			return s
		}
	}
	return fallback
}
