package patrol

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts/incident"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
)

// The screen shows the incidents the monitor's tracker (alerts/incident)
// opens, with their reporting clocks, and completes and signs their
// reports through its Store.

// incidents returns the incident store, nil when incidents are not
// configured or the monitor has not made the bucket yet.
func (s *Server) incidents(ctx context.Context) (*incident.Store, error) {
	if s.incCfg == nil {
		return nil, nil
	}
	s.incMu.Lock()
	defer s.incMu.Unlock()
	if s.inc != nil {
		return s.inc, nil
	}
	kv, err := s.js.KeyValue(ctx, s.incCfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("incident bucket %s: %w", s.incCfg.Bucket, err)
	}
	dkv, _ := s.src.bucket(ctx, s.src.dailyB, &s.src.daily)
	s.inc = incident.NewStore(s.js, kv, dkv, s.incCfg)
	return s.inc, nil
}

// deadlineView is one reporting clock.
type deadlineView struct {
	Kind, Due, Left, Responsible string
	Overdue                      bool
}

// incidentView is an incident as the screen shows it.
type incidentView struct {
	ID, Site, Room, RoomTitle, Title, Opened, Started, Resolved, URL string
	Active, Signed                                                   bool
	SignedBy, SignedAt                                               string
	Deadlines                                                        []deadlineView
	// Next is the clock of the earliest deadline not met.
	Next *deadlineView
}

func pick(m map[string]string, lang, fallback string) string {
	if v := m[lang]; v != "" {
		return v
	}
	if v := m[LangZH]; v != "" {
		return v
	}
	return fallback
}

func (s *Server) viewIncident(in *incident.Incident, lang string) incidentView {
	loc := time.Local
	roomTitle := pick(in.RoomTitle, lang, in.Room)
	if room := s.byKey[in.Site+"/"+in.Room]; room != nil {
		loc, roomTitle = room.Loc, room.Label(lang)
	}
	f := "2006-01-02 15:04"
	v := incidentView{ID: in.ID, Site: in.Site, Room: in.Room, RoomTitle: roomTitle, Title: pick(in.Title, lang, in.Class),
		Opened: in.OpenedAt.In(loc).Format(f), Started: in.StartedAt.In(loc).Format(f), Active: in.Active(), Signed: in.Signed != nil,
		URL: "/incident/" + in.Site + "/" + in.ID}
	if in.ResolvedAt != nil {
		v.Resolved = in.ResolvedAt.In(loc).Format(f)
	}
	if in.Signed != nil {
		v.SignedBy, v.SignedAt = in.Signed.By, in.Signed.At.In(loc).Format(f)
	}
	now := s.now()
	_, next := in.Left(now)
	for _, d := range in.Deadlines {
		dv := deadlineView{Kind: tr(lang, "deadline_"+d.Kind), Due: d.Due.In(loc).Format(f), Responsible: d.Responsible}
		switch {
		case in.Signed != nil:
			dv.Left = tr(lang, "reported")
		case now.After(d.Due):
			dv.Left, dv.Overdue = tr(lang, "overdue", dur(lang, now.Sub(d.Due))), true
		default:
			dv.Left = tr(lang, "left", dur(lang, d.Due.Sub(now)))
		}
		v.Deadlines = append(v.Deadlines, dv)
		if next != nil && d.Kind == next.Kind {
			c := dv
			v.Next = &c
		}
	}
	return v
}

// listIncidents returns every site's incidents, newest first.
func (s *Server) listIncidents(ctx context.Context, lang string) ([]incidentView, error) {
	st, err := s.incidents(ctx)
	if st == nil || err != nil {
		return nil, err
	}
	var sites []string
	for _, r := range s.rooms {
		if !slices.Contains(sites, r.Site) {
			sites = append(sites, r.Site)
		}
	}
	var all []*incident.Incident
	for _, site := range sites {
		l, err := st.List(ctx, site)
		if err != nil {
			return nil, err
		}
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b *incident.Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
	out := make([]incidentView, 0, len(all))
	for _, in := range all {
		out = append(out, s.viewIncident(in, lang))
	}
	return out, nil
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.listIncidents(r.Context(), langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	s.render(w, r, http.StatusOK, "incidents.html", tr(langOf(r), "incidents"), list)
}

// timelineRow is one line of a report's timeline.
type timelineRow struct{ At, What string }

// incidentPage is the report: the incident, its clocks, the timeline and
// facts drafted from the record, the latest revision and the forms to
// complete and sign it.
func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request) {
	ctx, lang := r.Context(), langOf(r)
	st, err := s.incidents(ctx)
	if st == nil || err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return
	}
	site, id := r.PathValue("site"), r.PathValue("id")
	in, err := st.Get(ctx, site, id)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return
	}
	draft, err := st.Draft(ctx, site, id, s.alerts, s.now())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	latest, err := st.Latest(ctx, site, id)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	loc := time.Local
	if room := s.byKey[site+"/"+in.Room]; room != nil {
		loc = room.Loc
	}
	var tl []timelineRow
	for _, e := range draft.Timeline {
		what := pick(e.Text, lang, e.Kind)
		switch e.Kind {
		case incident.EventNotification:
			what = tr(lang, "tl_told", strings.TrimSpace(e.Who+" "+e.Channel+" ("+e.State+")"))
		case incident.EventAck:
			what = tr(lang, "tl_acked", e.Who)
		}
		tl = append(tl, timelineRow{e.At.In(loc).Format("01-02 15:04"), what})
	}
	var facts []timelineRow
	for _, f := range draft.Facts {
		facts = append(facts, timelineRow{pick(f.Label, lang, ""), f.Value})
	}
	s.render(w, r, http.StatusOK, "incident.html", tr(lang, "incident"), map[string]any{
		"I": s.viewIncident(in, lang), "Timeline": tl, "Facts": facts, "Missing": draft.Missing, "Latest": latest})
}

// reportForm reads and bounds the report's fields.
func reportForm(r *http.Request) (incident.Fields, bool) {
	f := incident.Fields{Cause: strings.TrimSpace(r.PostFormValue("cause")), Impact: strings.TrimSpace(r.PostFormValue("impact")),
		Measures: strings.TrimSpace(r.PostFormValue("measures"))}
	ok := f.Cause != "" && utf8.RuneCountInString(f.Cause+f.Impact+f.Measures) <= 6000
	return f, ok
}

// completeIncident stores the report's fields as a new revision.
func (s *Server) completeIncident(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := s.incidents(ctx)
	if st == nil || err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return
	}
	site, id := r.PathValue("site"), r.PathValue("id")
	f, ok := reportForm(r)
	base, err := strconv.Atoi(r.PostFormValue("base"))
	if !ok || err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	draft, err := st.Draft(ctx, site, id, s.alerts, s.now())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return
	}
	u := userOf(r)
	rev, err := st.Complete(ctx, draft, base, f, u.Display(), s.now())
	if err != nil {
		s.fail(w, r, http.StatusConflict, "the incident report changed or is signed", err)
		return
	}
	if err := s.logAudit(ctx, r, audit.Incident, site, draft.Incident.Room, id, map[string]string{"report": "revision " + strconv.Itoa(rev.N)}); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.Redirect(w, r, "/incident/"+site+"/"+id+"?done=saved", http.StatusSeeOther)
}

// signIncident signs the latest revision of the report.
func (s *Server) signIncident(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := s.incidents(ctx)
	if st == nil || err != nil {
		s.fail(w, r, http.StatusNotFound, "unknown incident", err)
		return
	}
	site, id := r.PathValue("site"), r.PathValue("id")
	n, err := strconv.Atoi(r.PostFormValue("n"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	u := userOf(r)
	rev, err := st.Sign(ctx, site, id, n, incident.Signature{By: u.Display(), At: s.now(), From: clientAddr(r)})
	if err != nil {
		s.fail(w, r, http.StatusConflict, "the incident report changed or is signed", err)
		return
	}
	if err := s.logAudit(ctx, r, audit.Incident, site, rev.Draft.Incident.Room, id, map[string]string{"report": "signed revision " + strconv.Itoa(n)}); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.Redirect(w, r, "/incident/"+site+"/"+id+"?done=reported", http.StatusSeeOther)
}
