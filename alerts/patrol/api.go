package patrol

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/patrol/audit"
)

// The JSON API answers the same questions as the pages (see the package
// comment for the shapes).

func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) {
	rooms, err := s.overviewData(r.Context(), langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rooms": rooms, "at": s.now()})
}

func (s *Server) apiRecord(w http.ResponseWriter, r *http.Request) {
	room := s.roomOf(w, r)
	if room == nil {
		return
	}
	date, ok := s.dateOf(w, r, room, r.PathValue("date"))
	if !ok {
		return
	}
	d, _, err := s.recordData(r.Context(), room, date, langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"record": d.View, "manual": d.Manual, "signoffs": d.Signoffs, "locked": d.Locked,
	})
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	q, ok := s.historyQuery(w, r)
	if !ok {
		return
	}
	rows, err := s.historyRows(r.Context(), q, langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": q.From, "to": q.To, "days": rows})
}

func (s *Server) apiAlarms(w http.ResponseWriter, r *http.Request) {
	list, err := s.activeAlarms(r.Context(), langOf(r))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alarms": list})
}

// exportCSV writes the history of a date range as CSV (UTF-8 with a byte
// order mark, so spreadsheet programs read the Chinese right).
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	q, ok := s.historyQuery(w, r)
	if !ok {
		return
	}
	lang := langOf(r)
	rows, err := s.historyRows(r.Context(), q, lang)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="patrol-%s-%s.csv"`, q.From, q.To))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	head := []string{"日期", "院区", "机房", "机房名称", "异常项数", "告警数", "签名版本", "签名人", "签名时间", "异常项"}
	if lang == LangEN {
		head = []string{"date", "site", "room", "title", "abnormal", "alarms", "revision", "signed_by", "signed_at", "abnormal_items"}
	}
	_ = cw.Write(head)
	for _, x := range rows {
		rev := ""
		if x.Rev > 0 {
			rev = strconv.Itoa(x.Rev)
		}
		_ = cw.Write([]string{x.Date, x.Site, x.Room, x.Title, strconv.Itoa(x.Abnormal), strconv.Itoa(x.Alarms), rev, x.SignedBy, x.SignedAt, strings.Join(x.AbnormalItems, "; ")})
	}
	cw.Flush()
}

// auditPage shows the audit chain's state and its latest entries.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	entries, err := audit.Read(r.Context(), s.js)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "data unavailable", err)
		return
	}
	status := tr(langOf(r), "chain_ok", len(entries))
	if p := audit.Check(entries); p != nil {
		status = p.Error()
	}
	type row struct{ N, At, Actor, Action, Where, Object, From string }
	var rows []row
	for i := len(entries) - 1; i >= 0 && len(rows) < 200; i-- {
		e := entries[i].Entry
		rows = append(rows, row{strconv.FormatUint(e.N, 10), e.At.In(time.Local).Format("2006-01-02 15:04:05"), e.Actor, e.Action, strings.Trim(e.Site+"/"+e.Room, "/"), e.Object, e.From})
	}
	s.render(w, r, http.StatusOK, "audit.html", tr(langOf(r), "audit"), map[string]any{"Status": status, "Rows": rows})
}
