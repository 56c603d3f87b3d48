package dingtalk

import (
	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Message types a DingTalk robot channel sends.
const (
	MsgText     = channels.MsgText
	MsgMarkdown = channels.MsgMarkdown
)

// DefaultBaseURL is DingTalk's public API; a proxy replaces it with
// base_url.
const DefaultBaseURL = "https://oapi.dingtalk.com"

// Config is one DingTalk custom robot (自定义机器人).
//
//	access_token: {env: DINGTALK_TOKEN} # from the webhook address
//	secret: {env: DINGTALK_SECRET}      # 加签: the SEC… string; empty for a robot secured by keyword or IP only
//	msgtype: text                       # or markdown
//	base_url: https://oapi.dingtalk.com
//	timeout: 10s
type Config struct {
	AccessToken yamlconf.Secret `yaml:"access_token"`
	Secret      yamlconf.Secret `yaml:"secret"`
	MsgType     string          `yaml:"msgtype"`
	BaseURL     string          `yaml:"base_url"`

	channels.HTTPOptions `yaml:",inline"`
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.BaseURL == "" {
		d.BaseURL = DefaultBaseURL
	}
	if d.MsgType == "" {
		d.MsgType = MsgText
	}
	return d
}

// Validate records every problem of c under path.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	d := c.withDefaults()
	if d.AccessToken == "" {
		errs.Addf(path+".access_token", "missing: the access_token of the robot's webhook address")
	}
	channels.ValidateChat(errs, path, d.MsgType, d.BaseURL)
	d.HTTPOptions.Validate(errs, path)
}
