package patrol

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
)

// today is the room's local date now.
func (s *Server) today(room *Room) string { return s.now().In(room.Loc).Format(time.DateOnly) }

// roomOf resolves the {site}/{room} of a request, writing the error page
// when it is unknown.
func (s *Server) roomOf(w http.ResponseWriter, r *http.Request) *Room {
	room := s.byKey[r.PathValue("site")+"/"+r.PathValue("room")]
	if room == nil {
		s.fail(w, r, http.StatusNotFound, "unknown room", nil)
	}
	return room
}

// dateOf checks a yyyy-mm-dd date: a real day, not after today.
func (s *Server) dateOf(w http.ResponseWriter, r *http.Request, room *Room, d string) (string, bool) {
	t, err := time.ParseInLocation(time.DateOnly, d, room.Loc)
	if err != nil || t.Format(time.DateOnly) != d || d > s.today(room) || t.Year() < 2000 {
		s.fail(w, r, http.StatusBadRequest, "bad date", nil)
		return "", false
	}
	return d, true
}

// RoomStatus is one room's line on the overview.
type RoomStatus struct {
	Key        string `json:"key"`
	Site       string `json:"site"`
	Room       string `json:"room"`
	Title      string `json:"title"`
	Date       string `json:"date"`
	Status     string `json:"status"` // ok | warning | alarm | nodata
	StatusText string `json:"status_text"`
	Signed     bool   `json:"signed"`
	SignedText string `json:"signed_text"`
	Firing     int    `json:"firing"`
	Unacked    int    `json:"unacknowledged"`
	Abnormal   int    `json:"abnormal"`
	Updated    string `json:"updated,omitempty"`
	URL        string `json:"url"`
}

// signedRooms returns the latest signature of every room signed on date,
// by "site/room" key tokens.
func (s *Server) signedRooms(ctx context.Context, date string) (map[string]*Signoff, error) {
	out := map[string]*Signoff{}
	lister, err := s.store.kv.ListKeysFiltered(ctx, "sign.*.*."+alerts.KeyToken(date)+".*")
	if err != nil {
		return nil, err
	}
	latest := map[string]string{}
	for k := range lister.Keys() {
		parts := strings.Split(k, ".")
		if len(parts) != 5 {
			continue
		}
		rk := parts[1] + "/" + parts[2]
		if k > latest[rk] {
			latest[rk] = k
		}
	}
	for rk, k := range latest {
		e, err := s.store.kv.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		var so Signoff
		if err := json.Unmarshal(e.Value(), &so); err == nil {
			out[rk] = &so
		}
	}
	return out, nil
}

// overviewData is every room today. Many live screens share one reading:
// it is kept for a second.
func (s *Server) overviewData(ctx context.Context, lang string) ([]RoomStatus, error) {
	s.ovMu.Lock()
	defer s.ovMu.Unlock()
	gen := s.hub.generation()
	if c, ok := s.ovCache[lang]; ok && c.gen == gen && s.now().Sub(c.at) < time.Second && time.Since(c.wall) < time.Second {
		return c.rooms, nil
	}
	rooms, err := s.readOverview(ctx, lang)
	if err != nil {
		return nil, err
	}
	if s.ovCache == nil {
		s.ovCache = map[string]overviewCache{}
	}
	s.ovCache[lang] = overviewCache{gen: gen, at: s.now(), wall: time.Now(), rooms: rooms}
	return rooms, nil
}

type overviewCache struct {
	gen      uint64
	at, wall time.Time
	rooms    []RoomStatus
}

// readOverview reads every room today from NATS.
func (s *Server) readOverview(ctx context.Context, lang string) ([]RoomStatus, error) {
	alarms, err := s.src.alarms(ctx)
	if err != nil {
		return nil, err
	}
	signed := map[string]map[string]*Signoff{}
	out := make([]RoomStatus, 0, len(s.rooms))
	for i := range s.rooms {
		room := &s.rooms[i]
		date := s.today(room)
		if signed[date] == nil {
			if signed[date], err = s.signedRooms(ctx, date); err != nil {
				return nil, err
			}
		}
		rec, _, err := s.src.record(ctx, room.Site, room.Name, date)
		if err != nil {
			return nil, err
		}
		rv := buildRecord(rec, room, nil, lang, s.now())
		st := RoomStatus{Key: room.Site + "/" + room.Name, Site: room.Site, Room: room.Name, Title: room.Label(lang), Date: date,
			Abnormal: rv.Abnormal, Updated: rv.Updated, URL: "/room/" + room.Site + "/" + room.Name + "/" + date}
		severe := 0
		for _, a := range alarms {
			if a.Site != room.Site || a.Room != room.Name || !a.Active() {
				continue
			}
			st.Firing++
			if a.AckAt == nil {
				st.Unacked++
			}
			if a.Severity == alerts.Critical || a.Severity == alerts.Major {
				severe++
			}
		}
		switch {
		case severe > 0:
			st.Status = "alarm"
		case st.Firing > 0 || st.Abnormal > 0:
			st.Status = "warning"
		case rec == nil:
			st.Status = "nodata"
		default:
			st.Status = "ok"
		}
		st.StatusText = tr(lang, "st_"+st.Status)
		if so := signed[date][alerts.KeyToken(room.Site)+"/"+alerts.KeyToken(room.Name)]; so != nil {
			st.Signed = true
			st.SignedText = tr(lang, "signed") + " · " + so.ByName + " " + so.At.In(room.Loc).Format("15:04")
		} else {
			st.SignedText = tr(lang, "unsigned")
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	rooms, err := s.overviewData(r.Context(), langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	var open []incidentView
	if list, err := s.listIncidents(r.Context(), langOf(r)); err != nil {
		s.log.Warn("incidents unreadable", "err", err)
	} else {
		for _, in := range list {
			if in.Next != nil {
				open = append(open, in)
			}
		}
	}
	s.render(w, r, http.StatusOK, "overview.html", tr(langOf(r), "overview"), map[string]any{"Rooms": rooms, "Incidents": open})
}

func (s *Server) roomToday(w http.ResponseWriter, r *http.Request) {
	room := s.roomOf(w, r)
	if room == nil {
		return
	}
	http.Redirect(w, r, "/room/"+room.Site+"/"+room.Name+"/"+s.today(room), http.StatusSeeOther)
}

// manualRow is one manual item with its tick (draft or as signed).
type manualRow struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result string `json:"result,omitempty"` // ok | abnormal; empty: not checked
	Remark string `json:"remark,omitempty"`
	By     string `json:"by,omitempty"`
	At     string `json:"at,omitempty"`
}

// recordData is the record page.
type recordData struct {
	View        *RecordView
	Room        *Room
	Date        string
	Prev, Next  string
	IsToday     bool
	Manual      []manualRow
	Signoffs    []Signoff
	Latest      *Signoff
	Locked      bool
	PresenceAt  string
	PresenceMin int
	Base        string
}

// recordData reads everything the record page and its API show.
func (s *Server) recordData(ctx context.Context, room *Room, date, lang string) (*recordData, []byte, error) {
	rec, raw, err := s.src.record(ctx, room.Site, room.Name, date)
	if err != nil {
		return nil, nil, err
	}
	var dels []alerts.Delivery
	if rec != nil {
		if dels, err = s.src.deliveries(ctx, room.Site, room.Name, rec.From, rec.To); err != nil {
			s.log.Warn("delivery records unreadable; showing alarms without them", "err", err)
		}
	}
	d := &recordData{View: buildRecord(rec, room, dels, lang, s.now()), Room: room, Date: date,
		IsToday: date == s.today(room), PresenceMin: int(s.cfg.Presence.Minutes()), Base: "/room/" + room.Site + "/" + room.Name + "/" + date}
	d.View.Date = date
	t, _ := time.ParseInLocation(time.DateOnly, date, room.Loc)
	d.Prev = t.AddDate(0, 0, -1).Format(time.DateOnly)
	if !d.IsToday {
		d.Next = t.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	if d.Signoffs, err = s.store.Signoffs(ctx, room.Site, room.Name, date); err != nil {
		return nil, nil, err
	}
	ticks := map[string]Tick{}
	if len(d.Signoffs) > 0 {
		latest := d.Signoffs[len(d.Signoffs)-1]
		d.Latest, d.Locked = &latest, true
		ticks = d.Latest.Manual
	} else {
		m, _, err := s.store.Manual(ctx, room.Site, room.Name, date)
		if err != nil {
			return nil, nil, err
		}
		ticks = m.Items
	}
	for _, it := range s.cfg.Items(room.Name) {
		row := manualRow{ID: it.ID, Title: it.Title}
		if lang == LangEN && it.TitleEN != "" {
			row.Title = it.TitleEN
		}
		if t, ok := ticks[it.ID]; ok {
			row.Result, row.Remark, row.By, row.At = t.Result, t.Remark, t.By, t.At.In(room.Loc).Format("15:04")
		}
		d.Manual = append(d.Manual, row)
	}
	slices.Reverse(d.Signoffs) // newest first on the page
	return d, raw, nil
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	room := s.roomOf(w, r)
	if room == nil {
		return
	}
	date, ok := s.dateOf(w, r, room, r.PathValue("date"))
	if !ok {
		return
	}
	lang := langOf(r)
	d, _, err := s.recordData(r.Context(), room, date, lang)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	if u := userOf(r); u != nil {
		if p, err := s.store.Presence(r.Context(), u.Name, room.Site, room.Name); err == nil && p != nil && s.now().Sub(p.At) < s.cfg.Presence {
			d.PresenceAt = p.At.In(room.Loc).Format("15:04")
		}
	}
	s.render(w, r, http.StatusOK, "record.html", room.Label(lang)+" "+date, d)
}

// historyRow is one room's day in the history.
type historyRow struct {
	Date     string `json:"date"`
	Site     string `json:"site"`
	Room     string `json:"room"`
	Title    string `json:"title"`
	HasData  bool   `json:"has_data"`
	Abnormal int    `json:"abnormal"`
	Alarms   int    `json:"alarms"`
	Rev      int    `json:"rev"`
	SignedBy string `json:"signed_by,omitempty"`
	SignedAt string `json:"signed_at,omitempty"`
	URL      string `json:"url"`
	// AbnormalItems names the abnormal items (for the CSV export).
	AbnormalItems []string `json:"abnormal_items,omitempty"`
}

type historyQuery struct {
	Room     string
	From, To string
	Rooms    []*Room
}

// historyQuery reads ?room=site/room&from=&to= (default the last 14 days,
// at most 366).
func (s *Server) historyQuery(w http.ResponseWriter, r *http.Request) (*historyQuery, bool) {
	q := &historyQuery{Room: r.URL.Query().Get("room")}
	for i := range s.rooms {
		if q.Room == "" || q.Room == s.rooms[i].Site+"/"+s.rooms[i].Name {
			q.Rooms = append(q.Rooms, &s.rooms[i])
		}
	}
	if len(q.Rooms) == 0 {
		s.fail(w, r, http.StatusNotFound, "unknown room", nil)
		return nil, false
	}
	loc := q.Rooms[0].Loc
	today := s.now().In(loc)
	q.To = r.URL.Query().Get("to")
	if q.To == "" {
		q.To = today.Format(time.DateOnly)
	}
	q.From = r.URL.Query().Get("from")
	if q.From == "" {
		q.From = today.AddDate(0, 0, -13).Format(time.DateOnly)
	}
	from, err1 := time.ParseInLocation(time.DateOnly, q.From, loc)
	to, err2 := time.ParseInLocation(time.DateOnly, q.To, loc)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 366*24*time.Hour || from.Year() < 2000 {
		s.fail(w, r, http.StatusBadRequest, "bad date", nil)
		return nil, false
	}
	return q, true
}

// historyRows reads every room's day in the range, newest first.
func (s *Server) historyRows(ctx context.Context, q *historyQuery, lang string) ([]historyRow, error) {
	var out []historyRow
	from, _ := time.ParseInLocation(time.DateOnly, q.From, q.Rooms[0].Loc)
	to, _ := time.ParseInLocation(time.DateOnly, q.To, q.Rooms[0].Loc)
	for d := to; !d.Before(from); d = d.AddDate(0, 0, -1) {
		date := d.Format(time.DateOnly)
		signed, err := s.signedRooms(ctx, date)
		if err != nil {
			return nil, err
		}
		for _, room := range q.Rooms {
			rec, _, err := s.src.record(ctx, room.Site, room.Name, date)
			if err != nil {
				return nil, err
			}
			latest := signed[alerts.KeyToken(room.Site)+"/"+alerts.KeyToken(room.Name)]
			if rec == nil && latest == nil {
				continue
			}
			rv := buildRecord(rec, room, nil, lang, s.now())
			row := historyRow{Date: date, Site: room.Site, Room: room.Name, Title: room.Label(lang), HasData: rec != nil,
				Abnormal: rv.Abnormal, Alarms: len(rv.Alarms), URL: "/room/" + room.Site + "/" + room.Name + "/" + date}
			for _, sec := range rv.Sections {
				for _, it := range sec.Items {
					if it.Verdict == VerdictAbnormal {
						row.AbnormalItems = append(row.AbnormalItems, sec.Title+"/"+it.Title+" "+it.Device)
					}
				}
			}
			if latest != nil {
				row.Rev, row.SignedBy, row.SignedAt = latest.Rev, latest.ByName, latest.At.In(room.Loc).Format("2006-01-02 15:04")
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	q, ok := s.historyQuery(w, r)
	if !ok {
		return
	}
	rows, err := s.historyRows(r.Context(), q, langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	s.render(w, r, http.StatusOK, "history.html", tr(langOf(r), "history"), map[string]any{"Q": q, "Rows": rows, "All": s.rooms})
}

// alarmView is an active alarm on the alarms page.
type alarmView struct {
	ID, Fingerprint, Site, Room, RoomTitle, Severity, SeverityT, State, Text, Started, AckBy, AckAt string
	Ackable                                                                                         bool
}

func (s *Server) activeAlarms(ctx context.Context, lang string) ([]alarmView, error) {
	all, err := s.src.alarms(ctx)
	if err != nil {
		return nil, err
	}
	var out []alarmView
	for _, a := range alerts.ActiveOnly(all) {
		loc := time.Local
		title := a.Room
		if room := s.byKey[a.Site+"/"+a.Room]; room != nil {
			loc, title = room.Loc, room.Label(lang)
		}
		v := alarmView{ID: a.ID, Fingerprint: a.Fingerprint, Site: a.Site, Room: a.Room, RoomTitle: title,
			Severity: string(a.Severity), SeverityT: tr(lang, "sev_"+string(a.Severity)), State: string(a.State),
			Text: a.Message(lang), Started: a.StartedAt.In(loc).Format("2006-01-02 15:04"), AckBy: a.AckBy, Ackable: a.AckAt == nil}
		if a.AckAt != nil {
			v.AckAt = a.AckAt.In(loc).Format("15:04")
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) alarmsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.activeAlarms(r.Context(), langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	s.render(w, r, http.StatusOK, "alarms.html", tr(langOf(r), "alarms"), list)
}

func (s *Server) qrPage(w http.ResponseWriter, r *http.Request) {
	room := s.roomOf(w, r)
	if room == nil {
		return
	}
	base := s.cfg.BaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	exp := s.now().Add(s.cfg.QRValidity)
	link := strings.TrimSuffix(base, "/") + "/scan?t=" + roomToken(s.key, room.Site, room.Name, exp)
	svg, err := qrSVG(link)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "the page could not be drawn", err)
		return
	}
	s.render(w, r, http.StatusOK, "qr.html", tr(langOf(r), "qr"), map[string]any{
		"Room": room, "Title": room.Label(langOf(r)), "SVG": svg, "Link": link, "Until": exp.In(room.Loc).Format(time.DateOnly)})
}
