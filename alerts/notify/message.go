package notify

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/rules"
)

// Kinds of notification (alerts.Delivery.Kind).
const (
	KindFiring     = "firing"
	KindResolved   = "resolved"
	KindEscalation = "escalation"
	KindRepeat     = "repeat"
	KindSelfTest   = "selftest"
	KindDeadMan    = "deadman"
)

// item is one thing to tell: one alarm step (fired, escalated, repeated,
// resolved) or a notifier message (self-test, dead man's switch).
type item struct {
	// Key identifies the step; with the target and channel it is the
	// idempotency key: <alarm id>.<step>.
	Key      string
	AlarmID  string
	Site     string
	Room     string
	Severity rules.Severity
	Kind     string
	Level    int
	Text     string // the alarm's Chinese text
	Code     string // the short acknowledgement code
	At       time.Time
	// Exclude is a channel not to use (the one notify-channel-failing
	// is about).
	Exclude string
}

// LineData is what the line template sees.
type LineData struct {
	Label    string // 【严重】, 【已恢复】, 【升级·重要】
	Severity string // 严重
	Text     string
	Code     string // acknowledgement code; empty when there is nothing to acknowledge
	Site     string
	Room     string
}

// DefaultTemplate renders one line of a message.
const DefaultTemplate = `{{.Label}}{{.Text}}{{with .Code}}（回复"确认 {{.}}"）{{end}}`

type lineTemplate struct{ t *template.Template }

// parseLineTemplate compiles a line template and tries it on a sample.
func parseLineTemplate(s string) (*lineTemplate, error) {
	if strings.TrimSpace(s) == "" {
		s = DefaultTemplate
	}
	t, err := template.New("line").Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, err
	}
	lt := &lineTemplate{t}
	if _, err := lt.line(LineData{Label: "【严重】", Severity: "严重", Text: "一号机房 UPS 市电中断", Code: "1234"}); err != nil {
		return nil, err
	}
	return lt, nil
}

func (lt *lineTemplate) line(d LineData) (string, error) {
	var b bytes.Buffer
	if err := lt.t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// HeadRunes is one SMS segment in UCS-2: the first line of a message, the
// worst alarm, fits in it.
const HeadRunes = 70

// sortItems orders items worst first, then oldest first.
func sortItems(items []item) {
	slices.SortStableFunc(items, func(a, b item) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
}

func label(it item) string {
	sev := it.Severity.Label("zh")
	switch it.Kind {
	case KindResolved:
		return "【已恢复】"
	case KindEscalation:
		return fmt.Sprintf("【升级·%s】", sev)
	case KindRepeat:
		return fmt.Sprintf("【未确认·%s】", sev)
	case KindSelfTest:
		return "【自检】"
	case KindDeadMan:
		if it.Severity != rules.Critical {
			return "【恢复】"
		}
		return "【监控失联】"
	}
	return "【" + sev + "】"
}

// render makes one message of items for the target: the worst line
// first, within HeadRunes; a storm is counted ("另有 19 条").
func render(lt *lineTemplate, id string, items []item, to Target) (channels.Message, error) {
	items = slices.Clone(items)
	sortItems(items)
	lines := make([]string, len(items))
	for i, it := range items {
		code := it.Code
		if it.Kind == KindResolved {
			code = ""
		}
		l, err := lt.line(LineData{Label: label(it), Severity: it.Severity.Label("zh"), Text: stripLabel(it.Text), Code: code, Site: it.Site, Room: it.Room})
		if err != nil {
			return channels.Message{}, fmt.Errorf("template: %w", err)
		}
		lines[i] = l
	}
	head := lines[0]
	more := ""
	if n := len(lines) - 1; n > 0 {
		more = fmt.Sprintf("（另有 %d 条）", n)
	}
	var b strings.Builder
	first := fit(head, HeadRunes-len([]rune(more)))
	b.WriteString(first + more)
	rest := lines[1:]
	if first != head {
		rest = lines // the head was cut: the worst line in full too
	}
	for _, l := range rest {
		b.WriteString("\n")
		b.WriteString(l)
	}
	title := fit(label(items[0])+stripLabel(items[0].Text), 40)
	var md strings.Builder
	md.WriteString("### " + title + "\n")
	for _, l := range lines {
		md.WriteString("> " + l + "\n")
	}
	return channels.Message{
		ID: id, Severity: items[0].Severity, Title: title, Text: b.String(), Markdown: md.String(),
		To: to.Recipients,
	}, nil
}

// stripLabel drops a label the alarm's own text starts with (the rules'
// templates write "【严重】…"), as the message puts its own.
func stripLabel(s string) string {
	if strings.HasPrefix(s, "【") {
		if i := strings.Index(s, "】"); i > 0 {
			return strings.TrimSpace(s[i+len("】"):])
		}
	}
	return s
}

// fit cuts s to n runes, ending with "…" when cut.
func fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}
