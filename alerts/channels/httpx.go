package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// MaxAnswer is how much of a vendor's answer is read and kept.
const MaxAnswer = 64 << 10

// HTTPOptions are the settings every HTTP channel shares; a channel's
// Config embeds them inline (`yaml:",inline"`).
type HTTPOptions struct {
	// Timeout bounds one request, answer included. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultHTTPTimeout is HTTPOptions.Timeout when none is set.
const DefaultHTTPTimeout = 10 * time.Second

// Validate checks the options; path is the channel's path in the file.
func (o *HTTPOptions) Validate(errs *yamlconf.Errors, path string) {
	if o.Timeout < 0 {
		errs.Addf(path+".timeout", "must be positive")
	}
}

// Client returns the HTTP client for these options: the environment's
// proxy settings, the timeout, no cookies.
func (o HTTPOptions) Client() *http.Client {
	t := o.Timeout
	if t == 0 {
		t = DefaultHTTPTimeout
	}
	return &http.Client{Timeout: t, Transport: http.DefaultTransport}
}

// Answer is an HTTP answer read in full (up to MaxAnswer bytes).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// String is the answer as the delivery record keeps it: the status and
// the body verbatim.
func (a Answer) String() string {
	return "HTTP " + strconv.Itoa(a.Status) + " " + string(a.Body)
}

// RetryAfter is the wait the answer's Retry-After header asks for, in
// seconds or as a date; 0 if none.
func (a Answer) RetryAfter(now time.Time) time.Duration {
	v := a.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Transient reports whether the status says "try again later": 408, 429
// and 5xx.
func (a Answer) Transient() bool {
	return a.Status == http.StatusRequestTimeout || a.Status == http.StatusTooManyRequests || a.Status >= 500
}

// Do sends req with client and reads the answer. A request that got no
// answer returns an error without the URL's query or user info (they
// carry webhook keys and access tokens) and a Receipt with Retry set.
// It is not marked Unknown even when the request may have arrived before
// the timeout: the webhooks have no idempotency key, and for an alarm a
// message twice is better than none.
func Do(client *http.Client, req *http.Request) (Answer, Receipt, error) {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Answer{}, Receipt{Retry: true}, fmt.Errorf("%s %s: %w", req.Method, Redact(req.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	a := Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if err != nil {
		return a, Receipt{Answer: a.String(), Retry: true}, fmt.Errorf("%s %s: read answer: %w", req.Method, Redact(req.URL), err)
	}
	return a, Receipt{Answer: a.String()}, nil
}

// PostJSON posts v as JSON (UTF-8, HTML characters not escaped) to u.
func PostJSON(ctx context.Context, client *http.Client, u string, v any) (Answer, Receipt, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return Answer{}, Receipt{}, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &buf)
	if err != nil {
		return Answer{}, Receipt{}, fmt.Errorf("request: %w", ScrubURLError(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return Do(client, req)
}

// ScrubURLError drops a *url.Error's URL from err: it may carry a secret.
func ScrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Redact is u without user info and with every query value replaced, for
// errors and logs: webhook keys and tokens travel in the query.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	r.Fragment = ""
	if r.RawQuery != "" {
		q := r.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k+"=…")
		}
		slices.Sort(keys)
		r.RawQuery = strings.Join(keys, "&")
	}
	return r.String()
}

// VendorAnswer is the JSON answer WeCom and DingTalk both give: errcode 0
// and errmsg "ok" on success.
type VendorAnswer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// ParseVendorAnswer decodes body's errcode and errmsg, and the rest into
// more if not nil; ok is false when the body is not JSON or has no
// errcode: an answer not understood.
func ParseVendorAnswer(body []byte, more any) (code int, msg string, ok bool) {
	var v VendorAnswer
	if err := json.Unmarshal(body, &v); err != nil || v.ErrCode == nil {
		return 0, "", false
	}
	if more != nil {
		if err := json.Unmarshal(body, more); err != nil {
			return 0, "", false
		}
	}
	return *v.ErrCode, v.ErrMsg, true
}

// NotUnderstood is the result of an answer a channel cannot read: an
// error (never counted as sent) with the answer verbatim in the receipt,
// to retry.
func NotUnderstood(channel string, a Answer, why string) (Receipt, error) {
	return Receipt{Answer: a.String(), Retry: true, RetryAfter: a.RetryAfter(time.Now())},
		fmt.Errorf("channel %s: answer not understood (HTTP %d): %s", channel, a.Status, why)
}

// Truncate cuts s to at most max bytes at a character boundary, marking
// the cut with "…".
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
