package httpsms

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is a generic HTTP SMS gateway: the request is made of templates
// over Data (text/template, with the json, urlquery, urlpath and xml
// escapers), one request per recipient mobile, and the answer is a
// success when its status is one of success_status (any 2xx when empty)
// and, if success_match is set, its body matches that regexp.
//
//	method: POST
//	url: https://sms.example.org/api/send
//	headers:
//	  Content-Type: application/json
//	  Authorization: Bearer {{.Secret}}
//	body: '{"mobile": {{json .Mobile}}, "content": {{json .Text}}}'
//	secret: {env: SMS_API_KEY}
//	success_status: [200]
//	success_match: '"code":\s*0\b'
//	ref_match: '"msgid":\s*"([^"]+)"'
type Config struct {
	Method        string            `yaml:"method"`
	URL           string            `yaml:"url"`
	Headers       map[string]string `yaml:"headers"`
	Body          string            `yaml:"body"`
	Secret        yamlconf.Secret   `yaml:"secret"`
	SuccessStatus []int             `yaml:"success_status"`
	SuccessMatch  string            `yaml:"success_match"`
	RefMatch      string            `yaml:"ref_match"`

	channels.HTTPOptions `yaml:",inline"`
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut}

func (c *Config) withDefaults() Config {
	d := *c
	if d.Method == "" {
		d.Method = http.MethodPost
	}
	d.Method = strings.ToUpper(d.Method)
	return d
}

// Validate records every problem of c under path: each template is
// parsed and tried on a sample message, so a misspelt field is found
// here and not at the first alarm.
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	d := c.withDefaults()
	if !slices.Contains(methods, d.Method) {
		errs.Addf(path+".method", "%q is not GET, POST or PUT", c.Method)
	}
	if d.Method == http.MethodGet && d.Body != "" {
		errs.Addf(path+".body", "a GET request has no body")
	}
	if d.URL == "" {
		errs.Addf(path+".url", "missing")
	} else if s, err := trial(d.URL, "url"); err != nil {
		errs.Addf(path+".url", "%v", err)
	} else if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.Addf(path+".url", "does not make an http(s) address")
	}
	for k, v := range d.Headers {
		if _, err := trial(v, k); err != nil {
			errs.Addf(path+".headers."+k, "%v", err)
		}
	}
	if _, err := trial(d.Body, "body"); err != nil {
		errs.Addf(path+".body", "%v", err)
	}
	for i, s := range d.SuccessStatus {
		if s < 100 || s > 599 {
			errs.Addf(path+".success_status", "item %d: %d is not an HTTP status", i+1, s)
		}
	}
	if _, err := regexp.Compile(d.SuccessMatch); err != nil {
		errs.Addf(path+".success_match", "%v", err)
	}
	if re, err := regexp.Compile(d.RefMatch); err != nil {
		errs.Addf(path+".ref_match", "%v", err)
	} else if d.RefMatch != "" && re.NumSubexp() < 1 {
		errs.Addf(path+".ref_match", "needs a group ( ) around the message id")
	}
	d.HTTPOptions.Validate(errs, path)
}

// trial parses and runs one template on sample data.
func trial(text, name string) (string, error) {
	t, err := parse(name, text)
	if err != nil {
		return "", err
	}
	return run(t, sample)
}
