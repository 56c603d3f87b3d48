// Package dingtalk sends notifications through a DingTalk custom robot
// (钉钉自定义机器人) webhook, signed when the robot's security setting is
// 加签.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// Error codes of the robot's answer (自定义机器人发送群消息 and its error
// codes, open.dingtalk.com "custom-robot-access").
const (
	codeOK        = 0
	codeTooFast   = 130101 // send too fast, exceed 20 times per minute
	codeSignCheck = 310000 // sign not match, keywords not in content, or ip not allowed
)

// throttleWait is what a 130101 answer makes the notifier wait: a robot
// takes 20 messages a minute and is throttled for 10 minutes beyond that
// (自定义机器人接入, 调用频率限制).
const throttleWait = 10 * time.Minute

// Robot is one configured DingTalk robot.
type Robot struct {
	name   string
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// New builds the channel from a valid config; it does no I/O.
func New(name string, cfg Config, log *slog.Logger) (*Robot, error) {
	if err := channels.CheckConfig(name, &cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Robot{name: name, cfg: cfg, client: cfg.HTTPOptions.Client(), log: log.With("channel", name), now: time.Now}, nil
}

// Name is the configured channel's name.
func (d *Robot) Name() string { return d.name }

// at is the mention block of a robot message.
type at struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	IsAtAll   bool     `json:"isAtAll"`
}

// textMessage and markdownMessage are the robot's request bodies
// (自定义机器人发送群消息, 消息类型及数据格式):
//
//	{"msgtype":"text","text":{"content":"…"},"at":{"atMobiles":["138…"],"isAtAll":false}}
//	{"msgtype":"markdown","markdown":{"title":"…","text":"… @138…"},"at":{…}}
type textMessage struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	At at `json:"at"`
}

type markdownMessage struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At at `json:"at"`
}

// Send posts m to the robot, @-mentioning the recipients' mobiles.
func (d *Robot) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	mention := at{AtMobiles: channels.Mobiles(m.To)}
	var body any
	if d.cfg.MsgType == MsgMarkdown {
		b := markdownMessage{MsgType: MsgMarkdown, At: mention}
		// The title shows in the conversation list and is required.
		b.Markdown.Title = m.Title
		if b.Markdown.Title == "" {
			b.Markdown.Title, _, _ = strings.Cut(m.Text, "\n")
		}
		b.Markdown.Text = m.Markdown
		if b.Markdown.Text == "" {
			b.Markdown.Text = m.Text
		}
		b.Markdown.Text = named(b.Markdown.Text, mention.AtMobiles)
		body = b
	} else {
		b := textMessage{MsgType: MsgText, At: mention}
		b.Text.Content = named(m.Text, mention.AtMobiles)
		body = b
	}
	a, r, err := channels.PostJSON(ctx, d.client, d.url(), body)
	if err != nil {
		return r, fmt.Errorf("channel %s: %w", d.name, err)
	}
	code, msg, ok := channels.ParseVendorAnswer(a.Body, nil)
	if !ok {
		return channels.NotUnderstood(d.name, a, "no errcode")
	}
	if code == codeOK {
		return r, nil
	}
	r.Retry = true
	switch code {
	case codeTooFast:
		r.RetryAfter = throttleWait
	case codeSignCheck:
		r.Retry = false
	}
	return r, fmt.Errorf("channel %s: dingtalk errcode %d: %s", d.name, code, msg)
}

// named appends "@mobile" for each mobile text does not name yet: the
// robot shows a mention where the content names the mobile with @ (the
// documented examples: "我就是我, @XXX 是不一样的烟火" with atMobiles).
func named(text string, mobiles []string) string {
	for _, p := range mobiles {
		if !strings.Contains(text, "@"+p) {
			text += " @" + p
		}
	}
	return text
}

// Limit is the robot's documented rate: 20 messages a minute.
func (d *Robot) Limit() channels.Limit { return channels.Limit{Messages: 20, Per: time.Minute} }

// url is the webhook address, with timestamp and sign when the robot is
// signed.
func (d *Robot) url() string {
	q := url.Values{"access_token": {string(d.cfg.AccessToken)}}
	if d.cfg.Secret != "" {
		ts := strconv.FormatInt(d.now().UnixMilli(), 10)
		q.Set("timestamp", ts)
		q.Set("sign", Sign(ts, string(d.cfg.Secret)))
	}
	return d.cfg.BaseURL + "/robot/send?" + q.Encode()
}

// Sign is the signature of a signed robot's request (自定义机器人安全设置,
// 加签): HMAC-SHA256 keyed with the secret over timestamp + "\n" + secret,
// in base64; the query encoding url-encodes it. timestamp is in
// milliseconds and must be within an hour of DingTalk's clock.
func Sign(timestamp, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

var (
	_ channels.Channel = (*Robot)(nil)
	_ channels.Limited = (*Robot)(nil)
)
