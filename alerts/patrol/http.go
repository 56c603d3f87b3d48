package patrol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/patrol/users"
)

// Handler is the screen's whole HTTP surface: one chain of middleware
// (security headers, language, session, cross-origin protection) and a
// route table where each route names the least role it needs.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	anon := users.Role("")
	routes := []struct {
		pattern string
		need    users.Role
		h       http.HandlerFunc
	}{
		{"GET /login", anon, s.loginPage},
		{"POST /login", anon, s.login},
		{"POST /logout", users.Viewer, s.logout},
		{"GET /{$}", users.Viewer, s.overview},
		{"GET /events", users.Viewer, s.events},
		{"GET /room/{site}/{room}", users.Viewer, s.roomToday},
		{"GET /room/{site}/{room}/{date}", users.Viewer, s.recordPage},
		{"POST /room/{site}/{room}/{date}/tick", users.Operator, s.tick},
		{"POST /room/{site}/{room}/{date}/sign", users.Operator, s.sign},
		{"POST /room/{site}/{room}/{date}/revise", users.Admin, s.revise},
		{"GET /room/{site}/{room}/qr", users.Admin, s.qrPage},
		{"GET /scan", users.Operator, s.scan},
		{"GET /history", users.Viewer, s.history},
		{"GET /alarms", users.Viewer, s.alarmsPage},
		{"POST /alarms/ack", users.Operator, s.ack},
		{"GET /export.csv", users.Viewer, s.exportCSV},
		{"GET /audit", users.Admin, s.auditPage},
		{"GET /incidents", users.Viewer, s.incidentsPage},
		{"GET /incident/{site}/{id}", users.Viewer, s.incidentPage},
		{"POST /incident/{site}/{id}/complete", users.Operator, s.completeIncident},
		{"POST /incident/{site}/{id}/sign", users.Operator, s.signIncident},
		{"GET /api/overview", users.Viewer, s.apiOverview},
		{"GET /api/room/{site}/{room}/{date}", users.Viewer, s.apiRecord},
		{"GET /api/history", users.Viewer, s.apiHistory},
		{"GET /api/alarms", users.Viewer, s.apiAlarms},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, s.need(rt.need, rt.h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "page not found", nil)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "cross-origin request refused", errors.New("cross-origin form post"))
	}))
	return s.headers(s.withSession(cop.Handler(mux)))
}

// ctxKey keys the request's user in its context.
type ctxKey struct{}

// reqUser is the logged-in user of a request, with the session cookie.
type reqUser struct {
	*users.User
	token string
}

func userOf(r *http.Request) *reqUser {
	u, _ := r.Context().Value(ctxKey{}).(*reqUser)
	return u
}

// headers sets the security headers and remembers a ?lang= choice.
func (s *Server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.tls {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if l := r.URL.Query().Get("lang"); l == LangEN || l == LangZH {
			http.SetCookie(w, s.cookie("lang", l, 365*24*time.Hour, false))
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) cookie(name, value string, ttl time.Duration, httpOnly bool) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: httpOnly, Secure: s.tls, SameSite: http.SameSiteLaxMode,
	}
}

const sessionCookie = "rw_session"

// withSession finds the request's user from its session cookie; the
// user's role is read from the users file on each request, so a changed
// role or a removed user takes effect at once.
func (s *Server) withSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil && s.sessions != nil {
			sess, err := s.sessions.get(r.Context(), c.Value, s.now())
			if err != nil {
				s.log.Warn("session lookup", "err", err)
			}
			if sess != nil {
				if f, err := s.loadUsers(); err == nil {
					if u := f.Find(sess.User); u != nil {
						cu := *u
						r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &reqUser{User: &cu, token: c.Value}))
					}
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// need lets a request through when its user has at least role need (an
// empty need admits anyone).
func (s *Server) need(need users.Role, h http.Handler) http.Handler {
	if need == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := userOf(r)
		switch {
		case u == nil && r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/events":
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case u == nil:
			s.fail(w, r, http.StatusUnauthorized, "log in first", nil)
		case !u.Role.Allows(need):
			s.fail(w, r, http.StatusForbidden, "your role ("+string(u.Role)+") may not do this; it needs "+string(need), nil)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// page is what every template gets.
type page struct {
	Lang  string
	Title string
	User  *reqUser
	Path  string
	Flash string
	Now   string
	Data  any
}

// can reports whether the page's user has role need (templates hide the
// forms a role cannot use; the middleware enforces it).
func (p *page) Can(need string) bool {
	return p.User != nil && p.User.Role.Allows(users.Role(need))
}

// render writes a page; a template error is logged and becomes the plain
// error page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	lang := langOf(r)
	p := &page{Lang: lang, Title: title, User: userOf(r), Path: r.URL.Path, Data: data,
		Now: s.now().Format("2006-01-02 15:04"), Flash: flash(lang, r.URL.Query().Get("done"))}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render", "page", name, "err", err)
		if name != "error.html" {
			s.fail(w, r, http.StatusInternalServerError, "the page could not be drawn", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// flash is the confirmation shown after an action.
func flash(lang, done string) string {
	m := map[string][2]string{
		"acked":    {"已确认告警，已通知监测程序", "Alarm acknowledged; the monitor was told"},
		"ticked":   {"已保存人工检查项", "Manual checks saved"},
		"signed":   {"已签名，记录已锁定", "Signed; the record is locked"},
		"revised":  {"更正已保存为新版本", "Correction saved as a new revision"},
		"scanned":  {"已扫码确认到场", "Presence confirmed"},
		"reported": {"事件报告已签名定稿", "Incident report signed"},
		"saved":    {"事件报告已保存为新版本", "Report saved as a new revision"},
	}[done]
	if lang == LangEN {
		return m[1]
	}
	return m[0]
}

// errorText are the plain causes shown on the error page, in Chinese.
var errorText = map[string]string{
	"page not found":                     "页面不存在",
	"cross-origin request refused":       "拒绝跨站提交的表单",
	"log in first":                       "请先登录",
	"unknown room":                       "没有这个机房",
	"bad date":                           "日期无效（格式为 yyyy-mm-dd，且不能晚于今天）",
	"bad form":                           "表单内容无效",
	"the page could not be drawn":        "页面无法显示",
	"data unavailable":                   "暂时无法读取数据（NATS）",
	"too many attempts":                  "登录失败次数过多，请稍后再试",
	"invalid or expired room code":       "二维码无效或已过期",
	"no recent scan of this room's code": "签名前须在本机房扫描二维码",
	"the record is signed: correct it as a new revision": "记录已签名锁定，更正须另立新版本",
	"the record is not signed yet":                       "记录尚未签名",
	"manual items not checked":                           "尚有人工检查项未填写",
	"unknown incident":                                   "没有这个事件",
	"the incident report changed or is signed":           "事件报告已被他人修改或已签名定稿",
	"a reason is required":                               "请填写更正原因",
	"the acknowledgement was not published":              "确认未能发布",
	"signed, but the audit entry was not written":        "已签名，但审计记录写入失败",
}

// fail writes the plain error page: a status and a short cause, never a
// stack trace or an internal error; err goes to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		s.log.Warn("request refused", "path", r.URL.Path, "status", status, "cause", msg, "err", err)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]any{"error": msg, "status": status})
		return
	}
	text := msg
	if langOf(r) == LangZH {
		if zh, ok := errorText[msg]; ok {
			text = zh
		} else if strings.HasPrefix(msg, "your role") {
			text = "您的角色无权执行此操作"
		}
	}
	s.render(w, r, status, "error.html", tr(langOf(r), "error"), map[string]any{"Status": status, "Message": text})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// clientAddr is the request's remote address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath returns p when it is a path on this site, else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
