package wecom

import (
	"context"
	"net/url"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// robotText and robotMarkdown are the webhook's request bodies
// (群机器人配置说明, developer.work.weixin.qq.com document 91770):
//
//	{"msgtype":"text","text":{"content":"…","mentioned_mobile_list":["13800001111"]}}
//	{"msgtype":"markdown","markdown":{"content":"…"}}
type robotText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content       string   `json:"content"`
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
	var body any
	if w.cfg.MsgType == MsgMarkdown {
		// A robot's markdown cannot @-mention (document 91770).
		b := robotMarkdown{MsgType: MsgMarkdown}
		b.Markdown.Content = w.content(m)
		body = b
	} else {
		b := robotText{MsgType: MsgText}
		b.Text.Content = w.content(m)
		b.Text.MentionMobile = channels.Mobiles(m.To)
		body = b
	}
	u := w.cfg.BaseURL + "/cgi-bin/webhook/send?" + url.Values{"key": {string(w.cfg.Key)}}.Encode()
	a, r, err := channels.PostJSON(ctx, w.client, u, body)
	if err != nil {
		return r, err
	}
	code, msg, ok := channels.ParseVendorAnswer(a.Body, nil)
	if !ok {
		return channels.NotUnderstood(w.name, a, "no errcode")
	}
	return w.verdict(a, code, msg, r)
}
