package channels

import (
	"net/url"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Message types of the chat channels (DingTalk robots, WeCom robots and
// applications).
const (
	MsgText     = "text"
	MsgMarkdown = "markdown"
)

// CheckConfig validates a channel's config for its New: every problem,
// under channels.NAME, as one error; nil when cfg is valid.
func CheckConfig(name string, cfg interface {
	Validate(errs *yamlconf.Errors, path string)
}) error {
	errs := yamlconf.Errors{}
	cfg.Validate(&errs, "channels."+name)
	return errs.Err()
}

// ValidateChat records the problems of a chat channel's msgtype and
// base_url (both with their defaults applied) under path.
func ValidateChat(errs *yamlconf.Errors, path, msgType, baseURL string) {
	if msgType != MsgText && msgType != MsgMarkdown {
		errs.Addf(path+".msgtype", "%q is not text or markdown", msgType)
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs.Addf(path+".base_url", "%q is not an http(s) address without a query", baseURL)
	}
}
