package patrol

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
)

// logAudit appends an audit entry for the request's user.
func (s *Server) logAudit(ctx context.Context, r *http.Request, action, site, room, object string, detail map[string]string) error {
	e := audit.Entry{At: s.now(), Action: action, Site: site, Room: room, Object: object, Detail: detail, From: clientAddr(r)}
	if u := userOf(r); u != nil {
		e.Actor, e.Role = u.Name, string(u.Role)
	}
	if e.Actor == "" && detail != nil {
		e.Actor = detail["user"]
	}
	_, err := s.audit.Append(ctx, e)
	return err
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", tr(langOf(r), "login"), map[string]string{"Next": localPath(r.URL.Query().Get("next")), "Error": ""})
}

// login checks a password, limited per client address and user name.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	name, pw := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	keys := []string{"addr:" + clientAddr(r), "user:" + name}
	now := s.now()
	if s.limit.Blocked(now, keys...) {
		s.fail(w, r, http.StatusTooManyRequests, "too many attempts", errors.New("login rate limit"))
		return
	}
	f, err := s.loadUsers()
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	u, err := f.Authenticate(name, pw)
	if err != nil {
		s.limit.Fail(now, keys...)
		shown := name
		if len(shown) > 64 {
			shown = strings.ToValidUTF8(shown[:64], "")
		}
		if aerr := s.logAudit(r.Context(), r, audit.LoginFailed, "", "", shown, map[string]string{"user": shown}); aerr != nil {
			s.log.Error("audit", "err", aerr)
		}
		msg := "用户名或密码错误"
		if langOf(r) == LangEN {
			msg = "Unknown user or wrong password"
		}
		s.render(w, r, http.StatusUnauthorized, "login.html", tr(langOf(r), "login"), map[string]string{"Next": next, "Error": msg})
		return
	}
	s.limit.Reset(keys...)
	token, err := s.sessions.create(r.Context(), Session{User: u.Name, Created: now, From: clientAddr(r)})
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &reqUser{User: u, token: token}))
	if err := s.logAudit(r.Context(), r, audit.Login, "", "", u.Name, nil); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.SetCookie(w, s.cookie(sessionCookie, token, s.cfg.SessionTTL, true))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	_ = s.sessions.delete(r.Context(), u.token)
	if err := s.logAudit(r.Context(), r, audit.Logout, "", "", u.Name, nil); err != nil {
		s.log.Error("audit", "err", err)
	}
	c := s.cookie(sessionCookie, "", 0, true)
	c.MaxAge = -1
	http.SetCookie(w, c)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// scan is where a room's code leads: it marks the user present in the
// room.
func (s *Server) scan(w http.ResponseWriter, r *http.Request) {
	site, roomName, _, err := parseToken(s.key, r.URL.Query().Get("t"), s.now())
	room := s.byKey[site+"/"+roomName]
	if err != nil || room == nil {
		s.fail(w, r, http.StatusBadRequest, "invalid or expired room code", err)
		return
	}
	u := userOf(r)
	if err := s.store.SetPresence(r.Context(), u.Name, site, roomName, Presence{At: s.now(), From: clientAddr(r)}); err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	if err := s.logAudit(r.Context(), r, audit.Scan, site, roomName, "", nil); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.Redirect(w, r, "/room/"+site+"/"+roomName+"/"+s.today(room)+"?done=scanned", http.StatusSeeOther)
}

// formTicks reads m_<id> (ok | abnormal) and r_<id> (remark) for the
// room's items; only items with a result are returned.
func (s *Server) formTicks(r *http.Request, room *Room, by string) (map[string]Tick, error) {
	out := map[string]Tick{}
	for _, it := range s.cfg.Items(room.Name) {
		res := r.PostFormValue("m_" + it.ID)
		remark := strings.TrimSpace(r.PostFormValue("r_" + it.ID))
		if utf8.RuneCountInString(remark) > 500 || !utf8.ValidString(remark) {
			return nil, errors.New("remark too long")
		}
		switch res {
		case "":
			continue
		case ResultOK, ResultAbnormal:
		default:
			return nil, errors.New("result " + strconv.Quote(res))
		}
		out[it.ID] = Tick{Result: res, Remark: remark, By: by, At: s.now()}
	}
	return out, nil
}

// target resolves room and date of a POST to a record.
func (s *Server) target(w http.ResponseWriter, r *http.Request) (*Room, string, bool) {
	room := s.roomOf(w, r)
	if room == nil {
		return nil, "", false
	}
	date, ok := s.dateOf(w, r, room, r.PathValue("date"))
	return room, date, ok
}

func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrSigned), errors.Is(err, ErrNotSigned):
		s.fail(w, r, http.StatusConflict, err.Error(), nil)
	case errors.Is(err, ErrNoPresence), errors.Is(err, ErrUnticked):
		s.fail(w, r, http.StatusForbidden, err.Error(), nil)
	default:
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
	}
}

func (s *Server) tick(w http.ResponseWriter, r *http.Request) {
	room, date, ok := s.target(w, r)
	if !ok {
		return
	}
	u := userOf(r)
	ticks, err := s.formTicks(r, room, u.Display())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	if err := s.store.SetTicks(r.Context(), room.Site, room.Name, date, ticks); err != nil {
		s.storeError(w, r, err)
		return
	}
	detail := map[string]string{}
	for id, t := range ticks {
		detail[id] = t.Result
	}
	if err := s.logAudit(r.Context(), r, audit.Tick, room.Site, room.Name, date, detail); err != nil {
		s.log.Error("audit", "err", err)
	}
	http.Redirect(w, r, "/room/"+room.Site+"/"+room.Name+"/"+date+"?done=ticked#manual", http.StatusSeeOther)
}

// signoff fills what a signature and a correction share.
func (s *Server) signoff(ctx context.Context, r *http.Request, room *Room, date string) (*Signoff, error) {
	u := userOf(r)
	rec, raw, err := s.src.record(ctx, room.Site, room.Name, date)
	if err != nil {
		return nil, err
	}
	so := &Signoff{Site: room.Site, Room: room.Name, Date: date, By: u.Name, ByName: u.Display(), Role: string(u.Role),
		At: s.now(), From: clientAddr(r), UserAgent: r.UserAgent(), Remarks: strings.TrimSpace(r.PostFormValue("remarks"))}
	if utf8.RuneCountInString(so.Remarks) > 2000 {
		return nil, errors.New("remarks too long")
	}
	so.Verdicts = buildRecord(rec, room, nil, LangZH, s.now()).Verdicts
	sum := sha256.Sum256(raw)
	so.RecordDigest = hex.EncodeToString(sum[:])
	if rec != nil {
		so.RecordUpdatedAt = rec.UpdatedAt
	}
	if p, err := s.store.Presence(ctx, u.Name, room.Site, room.Name); err == nil && p != nil && s.now().Sub(p.At) < s.cfg.Presence {
		at := p.At
		so.PresenceAt = &at
	}
	return so, nil
}

// sign signs the day: it needs a scan of the room's code within the
// presence window and every manual item checked.
func (s *Server) sign(w http.ResponseWriter, r *http.Request) {
	room, date, ok := s.target(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	so, err := s.signoff(ctx, r, room, date)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	if so.PresenceAt == nil {
		s.storeError(w, r, ErrNoPresence)
		return
	}
	m, _, err := s.store.Manual(ctx, room.Site, room.Name, date)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	// Items ticked in the same form count too.
	more, err := s.formTicks(r, room, so.ByName)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	for id, t := range more {
		m.Items[id] = t
	}
	for _, it := range s.cfg.Items(room.Name) {
		if _, ok := m.Items[it.ID]; !ok {
			s.storeError(w, r, ErrUnticked)
			return
		}
	}
	so.Manual = m.Items
	if err := s.store.Sign(ctx, so); err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.logAudit(ctx, r, audit.Sign, room.Site, room.Name, date+"#"+strconv.Itoa(so.Rev), map[string]string{"rev": strconv.Itoa(so.Rev), "record_digest": so.RecordDigest}); err != nil {
		s.fail(w, r, http.StatusInternalServerError, "signed, but the audit entry was not written", err)
		return
	}
	http.Redirect(w, r, "/room/"+room.Site+"/"+room.Name+"/"+date+"?done=signed", http.StatusSeeOther)
}

// revise stores a correction of a signed day as a new revision; the old
// ones stay.
func (s *Server) revise(w http.ResponseWriter, r *http.Request) {
	room, date, ok := s.target(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" || utf8.RuneCountInString(reason) > 1000 {
		s.fail(w, r, http.StatusBadRequest, "a reason is required", nil)
		return
	}
	revs, err := s.store.Signoffs(ctx, room.Site, room.Name, date)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if len(revs) == 0 {
		s.storeError(w, r, ErrNotSigned)
		return
	}
	prev := revs[len(revs)-1]
	so, err := s.signoff(ctx, r, room, date)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	so.Reason, so.Supersedes = reason, prev.Rev
	so.Manual = map[string]Tick{}
	for id, t := range prev.Manual {
		so.Manual[id] = t
	}
	more, err := s.formTicks(r, room, so.ByName)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	for id, t := range more {
		if old, ok := so.Manual[id]; !ok || old.Result != t.Result || old.Remark != t.Remark {
			so.Manual[id] = t
		}
	}
	if so.Remarks == "" {
		so.Remarks = prev.Remarks
	}
	if err := s.store.Sign(ctx, so); err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.logAudit(ctx, r, audit.Revise, room.Site, room.Name, date+"#"+strconv.Itoa(so.Rev),
		map[string]string{"rev": strconv.Itoa(so.Rev), "supersedes": strconv.Itoa(prev.Rev), "reason": reason}); err != nil {
		s.fail(w, r, http.StatusInternalServerError, "signed, but the audit entry was not written", err)
		return
	}
	http.Redirect(w, r, "/room/"+room.Site+"/"+room.Name+"/"+date+"?done=revised", http.StatusSeeOther)
}

// ack publishes an acknowledgement on NATS (the monitor applies it, the
// notifier stops escalating).
func (s *Server) ack(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	k := alerts.Ack{
		AlarmID: r.PostFormValue("alarm_id"), Fingerprint: r.PostFormValue("fingerprint"),
		Site: r.PostFormValue("site"), Room: r.PostFormValue("room"),
		By: u.Display(), Via: alerts.AckViaPatrol, From: clientAddr(r),
		Comment: strings.TrimSpace(r.PostFormValue("comment")), At: s.now(),
	}
	if s.byKey[k.Site+"/"+k.Room] == nil {
		s.fail(w, r, http.StatusNotFound, "unknown room", nil)
		return
	}
	if k.AlarmID == "" || k.Fingerprint == "" || !strings.HasPrefix(k.AlarmID, k.Fingerprint+"-") || utf8.RuneCountInString(k.Comment) > 500 {
		s.fail(w, r, http.StatusBadRequest, "bad form", nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if _, err := alerts.PublishAck(ctx, s.js, k); err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "the acknowledgement was not published", err)
		return
	}
	if err := s.logAudit(ctx, r, audit.Ack, k.Site, k.Room, k.AlarmID, map[string]string{"comment": k.Comment}); err != nil {
		s.log.Error("audit", "err", err)
	}
	back := localPath(r.PostFormValue("back"))
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done=acked", http.StatusSeeOther)
}
