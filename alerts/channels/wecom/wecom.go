// Package wecom sends notifications through WeCom (企业微信): a group
// robot's webhook, or an application's message API with its cached access
// token. The base address is configurable for private deployments and
// proxies.
package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// Error codes WeCom answers with (全局错误码, developer.work.weixin.qq.com
// document 90455).
const (
	codeOK           = 0
	codeBadSecret    = 40001 // 不合法的secret参数
	codeBadCorpID    = 40013 // 不合法的CorpID
	codeBadToken     = 40014 // 不合法的access_token: fetch a new one
	codeBadAgentID   = 40056 // 不合法的agentid
	codeTokenExpired = 42001 // access_token已过期: fetch a new one
	codeRateLimited  = 45009 // 接口调用超过限制: wait
	codeNoRecipient  = 81013 // every recipient invalid (发送应用消息)
)

// rateLimitWait is what a 45009 answer makes the notifier wait: a robot
// takes 20 messages a minute (群机器人配置说明, document 91770), an app 30
// a minute per member (发送应用消息, document 90236).
const rateLimitWait = time.Minute

// Byte limits of a message's content: text 2048 bytes (群机器人配置说明,
// 发送应用消息), markdown 4096 bytes.
const (
	maxText     = 2048
	maxMarkdown = 4096
)

// WeCom is one configured WeCom channel.
type WeCom struct {
	name   string
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu    sync.Mutex // guards token; held while a token is fetched
	token token
}

// New builds the channel from a validated config; it does no I/O.
func New(name string, cfg Config, log *slog.Logger) (*WeCom, error) {
	if err := channels.CheckConfig(name, &cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &WeCom{
		name:   name,
		cfg:    cfg,
		client: cfg.HTTPOptions.Client(),
		log:    log.With("channel", name, "kind", cfg.Kind),
		now:    time.Now,
	}, nil
}

// Name is the configured channel's name.
func (w *WeCom) Name() string { return w.name }

// Send delivers m: to the robot's group, mentioning the recipients'
// mobiles in a text message, or through the app to the recipients' WeCom
// user ids.
func (w *WeCom) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if w.cfg.Kind == KindApp {
		return w.sendApp(ctx, m)
	}
	return w.sendRobot(ctx, m)
}

// content is m's body in the configured message type, cut to WeCom's
// limit.
func (w *WeCom) content(m *channels.Message) string {
	if w.cfg.MsgType == MsgMarkdown {
		return channels.Truncate(w.markdown(m), maxMarkdown)
	}
	return channels.Truncate(m.Text, maxText)
}

// markdown is m's markdown form, or its text when it has none.
func (w *WeCom) markdown(m *channels.Message) string {
	if m.Markdown != "" {
		return m.Markdown
	}
	return m.Text
}

// verdict turns an errcode answer into a result: nil on success, or the
// error with its receipt.
func (w *WeCom) verdict(a channels.Answer, code int, msg string, r channels.Receipt) (channels.Receipt, error) {
	if code == codeOK {
		return r, nil
	}
	r.Retry = true
	switch code {
	case codeRateLimited:
		r.RetryAfter = rateLimitWait
	case codeBadSecret, codeBadCorpID, codeBadAgentID, codeNoRecipient:
		r.Retry = false
	}
	if ra := a.RetryAfter(w.now()); ra > r.RetryAfter {
		r.RetryAfter = ra
	}
	return r, fmt.Errorf("channel %s: wecom errcode %d: %s", w.name, code, msg)
}

// Limit is the robot's documented rate, 20 messages a minute (群机器人配置说明);
// an app's limits are per member (30 a minute) and left to WeCom's 45009.
func (w *WeCom) Limit() channels.Limit {
	if w.cfg.Kind == KindRobot {
		return channels.Limit{Messages: 20, Per: time.Minute}
	}
	return channels.Limit{}
}

// errTokenRefused marks a send whose token WeCom refused (40014, 42001).
var errTokenRefused = errors.New("access token refused")

var (
	_ channels.Channel = (*WeCom)(nil)
	_ channels.Limited = (*WeCom)(nil)
)
