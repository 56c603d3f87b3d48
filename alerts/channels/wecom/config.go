package wecom

import (
	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Kinds of WeCom channel.
const (
	KindRobot = "robot" // a group robot's webhook (群机器人)
	KindApp   = "app"   // an application's message API (应用消息)
)

// Message types a WeCom channel sends.
const (
	MsgText     = channels.MsgText
	MsgMarkdown = channels.MsgMarkdown
)

// DefaultBaseURL is WeCom's public API; a private deployment or a proxy
// replaces it with base_url.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// Config is one WeCom channel.
//
//	kind: robot            # or app
//	key: {env: WECOM_KEY}  # robot: the key in the webhook address
//	corp_id: ww0123456789  # app: the corp id,
//	secret: {file: /etc/roomwatch/wecom.secret} # its application's secret
//	agent_id: 1000002      # and agent id
//	msgtype: text          # or markdown (a robot cannot @-mention in markdown)
//	base_url: https://qyapi.weixin.qq.com
//	timeout: 10s
type Config struct {
	Kind    string          `yaml:"kind"`
	BaseURL string          `yaml:"base_url"`
	MsgType string          `yaml:"msgtype"`
	Key     yamlconf.Secret `yaml:"key"`
	CorpID  string          `yaml:"corp_id"`
	Secret  yamlconf.Secret `yaml:"secret"`
	AgentID int64           `yaml:"agent_id"`

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
	switch d.Kind {
	case KindRobot:
		if d.Key == "" {
			errs.Addf(path+".key", "a robot needs the key of its webhook address")
		}
		if d.CorpID != "" || d.Secret != "" || d.AgentID != 0 {
			errs.Addf(path+".kind", "corp_id, secret and agent_id belong to kind app, not robot")
		}
	case KindApp:
		if d.CorpID == "" {
			errs.Addf(path+".corp_id", "an app needs the corp id")
		}
		if d.Secret == "" {
			errs.Addf(path+".secret", "an app needs its secret")
		}
		if d.AgentID <= 0 {
			errs.Addf(path+".agent_id", "an app needs its agent id, a positive number")
		}
		if d.Key != "" {
			errs.Addf(path+".key", "key belongs to kind robot, not app")
		}
	case "":
		errs.Addf(path+".kind", "missing: robot or app")
	default:
		errs.Addf(path+".kind", "%q is not robot or app", d.Kind)
	}
	channels.ValidateChat(errs, path, d.MsgType, d.BaseURL)
	d.HTTPOptions.Validate(errs, path)
}
