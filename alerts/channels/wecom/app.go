package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// token is a cached access token and when it stops being used.
type token struct {
	value   string
	expires time.Time
}

// tokenAnswer is gettoken's answer (获取access_token, document 91039):
//
//	{"errcode":0,"errmsg":"ok","access_token":"…","expires_in":7200}
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// appMessage is message/send's request (发送应用消息, document 90236):
//
//	{"touser":"UserID1|UserID2","msgtype":"text","agentid":1,"text":{"content":"…"}}
//	{"touser":"UserID1","msgtype":"markdown","agentid":1,"markdown":{"content":"…"}}
type appMessage struct {
	ToUser   string   `json:"touser"`
	MsgType  string   `json:"msgtype"`
	AgentID  int64    `json:"agentid"`
	Text     *content `json:"text,omitempty"`
	Markdown *content `json:"markdown,omitempty"`
}

type content struct {
	Content string `json:"content"`
}

// sendAnswer is message/send's answer; invaliduser lists the ids WeCom
// did not deliver to, msgid identifies the message.
type sendAnswer struct {
	InvalidUser string `json:"invaliduser"`
	MsgID       string `json:"msgid"`
}

// sendApp sends m to the recipients' WeCom user ids. A token WeCom
// refuses (40014 invalid, 42001 expired) is fetched anew once and the
// message sent once more.
func (w *WeCom) sendApp(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	users := channels.WeComUsers(m.To)
	if len(users) == 0 {
		return channels.Receipt{}, fmt.Errorf("channel %s: no recipient has a WeCom user id", w.name)
	}
	body := appMessage{ToUser: strings.Join(users, "|"), MsgType: w.cfg.MsgType, AgentID: w.cfg.AgentID}
	c := &content{Content: w.content(m)}
	if w.cfg.MsgType == MsgMarkdown {
		body.Markdown = c
	} else {
		body.Text = c
	}
	r, err := w.postApp(ctx, body)
	if errors.Is(err, errTokenRefused) {
		// postApp dropped the refused token: this fetches a new one,
		// unless a concurrent send already did.
		w.log.Info("access token refused, fetching a new one", "answer", r.Answer)
		r, err = w.postApp(ctx, body)
	}
	return r, err
}

// postApp posts body with the cached token.
func (w *WeCom) postApp(ctx context.Context, body appMessage) (channels.Receipt, error) {
	tok, r, err := w.accessToken(ctx)
	if err != nil {
		return r, err
	}
	u := w.cfg.BaseURL + "/cgi-bin/message/send?" + url.Values{"access_token": {tok}}.Encode()
	a, r, err := channels.PostJSON(ctx, w.client, u, body)
	if err != nil {
		return r, fmt.Errorf("channel %s: %w", w.name, err)
	}
	var sa sendAnswer
	code, msg, ok := channels.ParseVendorAnswer(a.Body, &sa)
	if !ok {
		return channels.NotUnderstood(w.name, a, "no errcode")
	}
	if code == codeBadToken || code == codeTokenExpired {
		w.forget(tok)
		r.Retry = true
		return r, fmt.Errorf("channel %s: wecom errcode %d: %s: %w", w.name, code, msg, errTokenRefused)
	}
	r.Ref = sa.MsgID
	if code == codeOK && sa.InvalidUser != "" {
		w.log.Warn("some recipients are not valid WeCom users", "invaliduser", sa.InvalidUser)
	}
	return w.verdict(a, code, msg, r)
}

// accessToken returns the cached token, fetching one when there is none
// or it has expired.
func (w *WeCom) accessToken(ctx context.Context) (string, channels.Receipt, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if w.token.value != "" && now.Before(w.token.expires) {
		return w.token.value, channels.Receipt{}, nil
	}
	q := url.Values{"corpid": {w.cfg.CorpID}, "corpsecret": {string(w.cfg.Secret)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.cfg.BaseURL+"/cgi-bin/gettoken?"+q.Encode(), nil)
	if err != nil {
		return "", channels.Receipt{}, fmt.Errorf("channel %s: gettoken request: %w", w.name, err)
	}
	a, r, err := channels.Do(w.client, req)
	if err != nil {
		return "", r, fmt.Errorf("channel %s: gettoken: %w", w.name, err)
	}
	var ta tokenAnswer
	code, msg, ok := channels.ParseVendorAnswer(a.Body, &ta)
	if !ok || (code == codeOK && (ta.AccessToken == "" || ta.ExpiresIn <= 0)) {
		r, err := channels.NotUnderstood(w.name, a, "gettoken: no errcode, access_token or expires_in")
		r.Answer = redactToken(a)
		return "", r, err
	}
	r.Answer = redactToken(a)
	if code != codeOK {
		r, err := w.verdict(a, code, msg, r)
		return "", r, fmt.Errorf("gettoken: %w", err)
	}
	// Renew at nine tenths of the lifetime WeCom gave (7200 s as a rule).
	life := time.Duration(ta.ExpiresIn) * time.Second
	w.token = token{value: ta.AccessToken, expires: now.Add(life - life/10)}
	w.log.Debug("fetched an access token", "expires_in", ta.ExpiresIn)
	return ta.AccessToken, channels.Receipt{}, nil
}

// forget drops tok from the cache unless another send already replaced it.
func (w *WeCom) forget(tok string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.token.value == tok {
		w.token = token{}
	}
}

// redactToken is gettoken's answer for the record, the token hidden.
func redactToken(a channels.Answer) string {
	s := a.String()
	var ta tokenAnswer
	if _, _, ok := channels.ParseVendorAnswer(a.Body, &ta); ok && ta.AccessToken != "" {
		s = strings.ReplaceAll(s, ta.AccessToken, "<secret>")
	}
	return s
}
