package wecom

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// robotText and robotMarkdown are the webhook's request bodies
// (群机器人配置说明, developer.work.weixin.qq.com document 91770):
//
//	{"msgtype":"text","text":{"content":"…","mentioned_list":["wangqing"],"mentioned_mobile_list":["13800001111"]}}
//	{"msgtype":"markdown","markdown":{"content":"… <@wangqing>"}}
type robotText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content       string   `json:"content"`
		Mention       []string `json:"mentioned_list,omitempty"`
		MentionMobile []string `json:"mentioned_mobile_list,omitempty"`
	} `json:"text"`
}

type robotMarkdown struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// sendRobot posts m to base_url/cgi-bin/webhook/send?key=KEY; WeCom
// answers {"errcode":0,"errmsg":"ok"}.
func (w *WeCom) sendRobot(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	// A recipient is mentioned by WeCom user id, or by mobile when the
	// id is not known (document 91770); markdown mentions only by id,
	// with <@userid> in the content.
	var users, mobiles []string
	for _, p := range m.To {
		switch {
		case p.WeComUser != "" && !slices.Contains(users, p.WeComUser):
			users = append(users, p.WeComUser)
		case p.WeComUser == "" && p.Mobile != "" && !slices.Contains(mobiles, p.Mobile):
			mobiles = append(mobiles, p.Mobile)
		}
	}
	var body any
	if w.cfg.MsgType == MsgMarkdown {
		var at strings.Builder
		for _, u := range users {
			at.WriteString(" <@" + u + ">")
		}
		b := robotMarkdown{MsgType: MsgMarkdown}
		b.Markdown.Content = channels.Truncate(w.markdown(m), maxMarkdown-at.Len()) + at.String()
		body = b
	} else {
		b := robotText{MsgType: MsgText}
		b.Text.Content = channels.Truncate(m.Text, maxText)
		b.Text.Mention, b.Text.MentionMobile = users, mobiles
		body = b
	}
	u := w.cfg.BaseURL + "/cgi-bin/webhook/send?" + url.Values{"key": {string(w.cfg.Key)}}.Encode()
	a, r, err := channels.PostJSON(ctx, w.client, u, body)
	if err != nil {
		return r, fmt.Errorf("channel %s: %w", w.name, err)
	}
	code, msg, ok := channels.ParseVendorAnswer(a.Body, nil)
	if !ok {
		return channels.NotUnderstood(w.name, a, "no errcode")
	}
	return w.verdict(a, code, msg, r)
}
