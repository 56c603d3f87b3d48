package patrol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
)

// IncidentSchema is the schema of an incident in the patrol bucket and
// on roomwatch.patrol.incident.<site>.<room>.
//
// An incident is opened when an alarm of a configured class fires (see
// IncidentClass): it carries the national deadline of its class and the
// hospital's own. It is published when opened and when its report is
// signed, so the notifier can remind the responsible person before
// Deadline runs out.
const IncidentSchema = "roomwatch.patrol.incident/v1"

// IncidentSubjectPrefix is where incidents are published.
const IncidentSubjectPrefix = "roomwatch.patrol.incident"

// Incident is one serious event with its reporting clock.
type Incident struct {
	Schema      string    `json:"schema"`
	ID          string    `json:"id"` // the alarm occurrence that opened it
	Class       string    `json:"class"`
	Title       string    `json:"title"`
	TitleEN     string    `json:"title_en,omitempty"`
	Site        string    `json:"site"`
	Room        string    `json:"room"`
	Rule        string    `json:"rule"`
	Fingerprint string    `json:"fingerprint"`
	AlarmText   string    `json:"alarm_text"`
	StartedAt   time.Time `json:"started_at"` // the alarm fired
	OpenedAt    time.Time `json:"opened_at"`
	// Deadline is the report deadline of the class (national rules);
	// HospitalDeadline the hospital's own.
	Deadline         time.Time `json:"deadline"`
	HospitalDeadline time.Time `json:"hospital_deadline"`
	// Report is filled and signed by a person; nil while open.
	Report *IncidentReport `json:"report,omitempty"`
}

// IncidentReport is the completed report.
type IncidentReport struct {
	Summary  string    `json:"summary"`
	Cause    string    `json:"cause"`
	Measures string    `json:"measures"`
	By       string    `json:"by"`
	ByName   string    `json:"by_name"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
}

func incidentKey(site, id string) string { return key("incident", site, id) }

// checkIncidents opens an incident for every active alarm of a
// configured class that has none yet.
func (s *Server) checkIncidents(ctx context.Context) error {
	all, err := s.src.alarms(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, a := range alerts.ActiveOnly(all) {
		room := s.byKey[a.Site+"/"+a.Room]
		if room == nil {
			continue
		}
		k := s.classOf(a, room, now)
		if k == nil {
			continue
		}
		in := Incident{
			Schema: IncidentSchema, ID: a.ID, Class: k.Name, Title: k.Title, TitleEN: k.TitleEN,
			Site: a.Site, Room: a.Room, Rule: a.Rule, Fingerprint: a.Fingerprint, AlarmText: a.Message(LangZH),
			StartedAt: a.StartedAt, OpenedAt: now, Deadline: now.Add(k.Deadline), HospitalDeadline: now.Add(s.cfg.Incidents.Hospital),
		}
		data, _ := json.Marshal(in)
		if _, err := s.store.kv.Create(ctx, incidentKey(a.Site, a.ID), data); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				errs = append(errs, fmt.Errorf("incident %s: %w", a.ID, err))
			}
			continue
		}
		if err := s.nc.Publish(IncidentSubjectPrefix+"."+alerts.Token(a.Site)+"."+alerts.Token(a.Room), data); err != nil {
			errs = append(errs, err)
		}
		if _, err := s.audit.Append(ctx, audit.Entry{At: now, Actor: "roomwatch", Action: audit.Incident, Site: a.Site, Room: a.Room, Object: a.ID,
			Detail: map[string]string{"class": k.Name, "deadline": in.Deadline.UTC().Format(time.RFC3339)}}); err != nil {
			errs = append(errs, err)
		}
		s.log.Warn("incident opened", "site", a.Site, "room", a.Room, "class", k.Name, "deadline", in.Deadline)
	}
	return errors.Join(errs...)
}

// classOf returns the first incident class a matches at now, nil if none.
func (s *Server) classOf(a *alerts.Alarm, room *Room, now time.Time) *IncidentClass {
	for i := range s.cfg.Incidents.Classes {
		k := &s.cfg.Incidents.Classes[i]
		if !slices.Contains(k.Rules, a.Rule) || (len(k.Rooms) > 0 && !slices.Contains(k.Rooms, a.Room)) {
			continue
		}
		if k.CarryShare > 0 && (room.CarryTime <= 0 || a.Duration(now) < time.Duration(k.CarryShare*float64(room.CarryTime))) {
			continue
		}
		return k
	}
	return nil
}

// incidents reads every incident, newest first.
func (s *Server) incidents(ctx context.Context) ([]Incident, error) {
	lister, err := s.store.kv.ListKeysFiltered(ctx, "incident.>")
	if err != nil {
		return nil, err
	}
	var out []Incident
	for k := range lister.Keys() {
		e, err := s.store.kv.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		var in Incident
		if err := json.Unmarshal(e.Value(), &in); err == nil {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
	return out, nil
}

// incidentView is an incident with its clock.
type incidentView struct {
	Incident
	RoomTitle, TitleL, Opened, DeadlineS, HospitalS, Left, HospitalLeft string
	Overdue                                                             bool
	URL                                                                 string
}

func (s *Server) viewIncident(in Incident, lang string) incidentView {
	loc := time.Local
	v := incidentView{Incident: in, RoomTitle: in.Room, TitleL: in.Title, URL: "/incident/" + in.Site + "/" + in.ID}
	if room := s.byKey[in.Site+"/"+in.Room]; room != nil {
		loc, v.RoomTitle = room.Loc, room.Label(lang)
	}
	if lang == LangEN && in.TitleEN != "" {
		v.TitleL = in.TitleEN
	}
	f := "2006-01-02 15:04"
	v.Opened, v.DeadlineS, v.HospitalS = in.OpenedAt.In(loc).Format(f), in.Deadline.In(loc).Format(f), in.HospitalDeadline.In(loc).Format(f)
	now := s.now()
	left := func(d time.Time) string {
		if in.Report != nil {
			return tr(lang, "reported")
		}
		if now.After(d) {
			return tr(lang, "overdue", dur(lang, now.Sub(d)))
		}
		return tr(lang, "left", dur(lang, d.Sub(now)))
	}
	v.Left, v.HospitalLeft = left(in.Deadline), left(in.HospitalDeadline)
	v.Overdue = in.Report == nil && now.After(in.Deadline)
	return v
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.incidents(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	var views []incidentView
	for _, in := range list {
		views = append(views, s.viewIncident(in, langOf(r)))
	}
	s.render(w, r, http.StatusOK, "incidents.html", tr(langOf(r), "incidents"), views)
}

// timelineRow is one line of an incident report's timeline.
type timelineRow struct{ At, What string }

// incident loads the incident of the request, writing the error page
// when there is none.
func (s *Server) incident(w http.ResponseWriter, r *http.Request) (*Incident, uint64, bool) {
	e, err := s.store.kv.Get(r.Context(), incidentKey(r.PathValue("site"), r.PathValue("id")))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return nil, 0, false
	}
	var in Incident
	if err := json.Unmarshal(e.Value(), &in); err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return nil, 0, false
	}
	return &in, e.Revision(), true
}

// incidentPage is the report drafted from the record: the alarms of the
// room's day up to now, who was told, who acknowledged, when it ended.
func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request) {
	in, _, ok := s.incident(w, r)
	if !ok {
		return
	}
	lang := langOf(r)
	room := s.byKey[in.Site+"/"+in.Room]
	if room == nil {
		s.fail(w, r, http.StatusNotFound, "unknown room", nil)
		return
	}
	date := in.StartedAt.In(room.Loc).Format(time.DateOnly)
	d, _, err := s.recordData(r.Context(), room, date, lang)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	var tl []timelineRow
	if !slices.ContainsFunc(d.View.Alarms, func(a AlarmRow) bool { return a.ID == in.ID }) {
		tl = append(tl, timelineRow{in.StartedAt.In(room.Loc).Format("15:04"), tr(lang, "tl_fired", "", in.AlarmText)})
	}
	for _, a := range d.View.Alarms {
		tl = append(tl, timelineRow{a.Started, tr(lang, "tl_fired", a.SeverityT, a.Text)})
		for _, t := range a.Told {
			at, who, _ := strings.Cut(t, " ")
			tl = append(tl, timelineRow{at, tr(lang, "tl_told", who)})
		}
		if a.AckBy != "" {
			tl = append(tl, timelineRow{a.AckAt, tr(lang, "tl_acked", a.AckBy)})
		}
		if a.Ended != "" {
			tl = append(tl, timelineRow{a.Ended, tr(lang, "tl_resolved", a.Text)})
		}
	}
	tl = append(tl, timelineRow{in.OpenedAt.In(room.Loc).Format("15:04"), tr(lang, "tl_opened", in.Title)})
	slices.SortStableFunc(tl, func(a, b timelineRow) int { return strings.Compare(a.At, b.At) })
	s.render(w, r, http.StatusOK, "incident.html", tr(lang, "incident"), map[string]any{
		"I": s.viewIncident(*in, lang), "Timeline": tl, "Record": d.View, "Date": date})
}

// reportIncident completes and signs an incident's report, once.
func (s *Server) reportIncident(w http.ResponseWriter, r *http.Request) {
	in, rev, ok := s.incident(w, r)
	if !ok {
		return
	}
	if in.Report != nil {
		s.fail(w, r, http.StatusConflict, "the incident report is signed", nil)
		return
	}
	u := userOf(r)
	rep := &IncidentReport{Summary: strings.TrimSpace(r.PostFormValue("summary")), Cause: strings.TrimSpace(r.PostFormValue("cause")),
		Measures: strings.TrimSpace(r.PostFormValue("measures")), By: u.Name, ByName: u.Display(), At: s.now(), From: clientAddr(r)}
	if rep.Summary == "" || utf8.RuneCountInString(rep.Summary+rep.Cause+rep.Measures) > 6000 {
		s.fail(w, r, http.StatusBadRequest, "bad form", nil)
		return
	}
	in.Report = rep
	data, _ := json.Marshal(in)
	if _, err := s.store.kv.Update(r.Context(), incidentKey(in.Site, in.ID), data, rev); err != nil {
		s.fail(w, r, http.StatusConflict, "the incident report is signed", err)
		return
	}
	_ = s.nc.Publish(IncidentSubjectPrefix+"."+alerts.Token(in.Site)+"."+alerts.Token(in.Room), data)
	if err := s.logAudit(r.Context(), r, audit.Incident, in.Site, in.Room, in.ID, map[string]string{"report": "signed"}); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.Redirect(w, r, "/incident/"+in.Site+"/"+in.ID+"?done=reported", http.StatusSeeOther)
}
