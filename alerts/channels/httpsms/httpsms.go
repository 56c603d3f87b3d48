// Package httpsms sends SMS through an HTTP gateway described entirely in
// the configuration (method, address, headers and body as templates;
// success by status code and an optional match on the answer), so an
// in-house gateway needs no code.
package httpsms

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// Data is what the templates see: the message and one recipient.
type Data struct {
	ID       string // notification id
	Severity string // critical, major, minor, warning
	Title    string
	Text     string
	Name     string // the recipient's name
	Mobile   string // the recipient's mobile
	Secret   string // the configured secret (API key, password)
}

var sample = Data{ID: "n-1", Severity: "critical", Title: "【紧急】一号机房 市电中断", Text: "【紧急】一号机房 市电中断", Name: "张三", Mobile: "13800138000", Secret: "secret"}

var funcs = template.FuncMap{
	// json is v as a JSON string, quotes included: {"text": {{json .Text}}}.
	"json": func(v string) (string, error) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(v)
		return strings.TrimSuffix(b.String(), "\n"), err
	},
	// urlpath escapes v for a path segment (urlquery, built in, escapes
	// for a query value or a form body).
	"urlpath": url.PathEscape,
	// xml escapes v for XML text or an attribute.
	"xml": func(v string) (string, error) {
		var b strings.Builder
		err := xml.EscapeText(&b, []byte(v))
		return b.String(), err
	},
}

func parse(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
}

func run(t *template.Template, d Data) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// rememberMessages bounds how many partly sent messages a gateway
// remembers.
const rememberMessages = 256

// Gateway is one configured HTTP SMS gateway.
type Gateway struct {
	name    string
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	url     *template.Template
	body    *template.Template
	headers map[string]*template.Template
	success *regexp.Regexp // nil: any body
	ref     *regexp.Regexp // nil: no reference

	mu   sync.Mutex
	sent map[string]map[string]bool // message id → mobiles the gateway accepted, for messages partly sent
	ids  []string                   // keys of sent, oldest first
}

// New builds the gateway from a valid config; it does no I/O.
func New(name string, cfg Config, log *slog.Logger) (*Gateway, error) {
	if err := channels.CheckConfig(name, &cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Gateway{name: name, cfg: cfg, client: cfg.HTTPOptions.Client(), log: log.With("channel", name),
		headers: map[string]*template.Template{}, sent: map[string]map[string]bool{}}
	// Validate parsed every template and regexp already.
	g.url, _ = parse("url", cfg.URL)
	g.body, _ = parse("body", cfg.Body)
	for k, v := range cfg.Headers {
		g.headers[k], _ = parse(k, v)
	}
	if cfg.SuccessMatch != "" {
		g.success = regexp.MustCompile(cfg.SuccessMatch)
	}
	if cfg.RefMatch != "" {
		g.ref = regexp.MustCompile(cfg.RefMatch)
	}
	return g, nil
}

// Name is the configured channel's name.
func (g *Gateway) Name() string { return g.name }

// Send makes one request per recipient mobile. When some are accepted and
// others fail, the error's receipt asks for a retry, and a retry of the
// same message (same ID) goes only to those not yet accepted.
func (g *Gateway) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	var to []channels.Recipient
	seen := map[string]bool{}
	for _, p := range m.To {
		if p.Mobile != "" && !seen[p.Mobile] {
			seen[p.Mobile] = true
			to = append(to, p)
		}
	}
	if len(to) == 0 {
		return channels.Receipt{}, fmt.Errorf("channel %s: no recipient has a mobile", g.name)
	}
	done := g.accepted(m.ID)
	var (
		out     channels.Receipt
		answers []string
		refs    []string
		errs    []error
	)
	for _, p := range to {
		if done[p.Mobile] {
			continue
		}
		r, err := g.sendOne(ctx, m, p)
		answers = append(answers, p.Mobile+": "+r.Answer)
		if err != nil {
			errs = append(errs, err)
			out.Retry = out.Retry || r.Retry
			out.RetryAfter = max(out.RetryAfter, r.RetryAfter)
			continue
		}
		done[p.Mobile] = true
		if r.Ref != "" {
			refs = append(refs, r.Ref)
		}
	}
	// A gateway may echo the request, secret included.
	out.Answer = strings.Join(answers, "\n")
	if g.cfg.Secret != "" {
		out.Answer = strings.ReplaceAll(out.Answer, string(g.cfg.Secret), "<secret>")
	}
	out.Ref = strings.Join(refs, ",")
	g.remember(m.ID, done, len(errs) > 0)
	return out, errors.Join(errs...)
}

// sendOne sends m to one recipient.
func (g *Gateway) sendOne(ctx context.Context, m *channels.Message, p channels.Recipient) (channels.Receipt, error) {
	d := Data{ID: m.ID, Severity: string(m.Severity), Title: m.Title, Text: m.Text, Name: p.Name, Mobile: p.Mobile, Secret: string(g.cfg.Secret)}
	u, err := run(g.url, d)
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("channel %s: url template: %w", g.name, err)
	}
	body, err := run(g.body, d)
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("channel %s: body template: %w", g.name, err)
	}
	var rd io.Reader
	if g.cfg.Method != http.MethodGet {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, g.cfg.Method, u, rd)
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("channel %s: request: %w", g.name, channels.ScrubURLError(err))
	}
	for k, t := range g.headers {
		v, err := run(t, d)
		if err != nil {
			return channels.Receipt{}, fmt.Errorf("channel %s: header %s template: %w", g.name, k, err)
		}
		req.Header.Set(k, v)
	}
	a, r, err := channels.Do(g.client, req)
	if err != nil {
		return r, fmt.Errorf("channel %s: %w", g.name, err)
	}
	statusOK := a.Status >= 200 && a.Status < 300
	if len(g.cfg.SuccessStatus) > 0 {
		statusOK = slices.Contains(g.cfg.SuccessStatus, a.Status)
	}
	if statusOK && (g.success == nil || g.success.Match(a.Body)) {
		if g.ref != nil {
			if sm := g.ref.FindSubmatch(a.Body); len(sm) > 1 {
				r.Ref = string(sm[1])
			}
		}
		return r, nil
	}
	why := "status not a success"
	if statusOK {
		why = "answer does not match success_match"
	}
	r, err = channels.NotUnderstood(g.name, a, why)
	if a.Transient() && r.RetryAfter == 0 {
		r.RetryAfter = a.RetryAfter(time.Now())
	}
	return r, err
}

// accepted returns a copy of the mobiles already accepted for message id.
func (g *Gateway) accepted(id string) map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]bool{}
	for k := range g.sent[id] {
		out[k] = true
	}
	return out
}

// remember keeps done for message id while it is partly sent, and
// forgets it once the message is through.
func (g *Gateway) remember(id string, done map[string]bool, partial bool) {
	if id == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.sent[id]; !ok && partial && len(done) > 0 {
		g.ids = append(g.ids, id)
		if len(g.ids) > rememberMessages {
			delete(g.sent, g.ids[0])
			g.ids = g.ids[1:]
		}
	}
	if partial && len(done) > 0 {
		g.sent[id] = done
		return
	}
	if !partial {
		delete(g.sent, id)
		if i := slices.Index(g.ids, id); i >= 0 {
			g.ids = slices.Delete(g.ids, i, i+1)
		}
	}
}

var _ channels.Channel = (*Gateway)(nil)
