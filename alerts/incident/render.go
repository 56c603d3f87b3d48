package incident

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the draft in lang ("zh" or "en") as Markdown, with
// times in loc (nil: the zone of the times).
func (d *Draft) Markdown(lang string, loc *time.Location) string {
	var b strings.Builder
	d.write(&b, lang, loc, true)
	return b.String()
}

// Text renders the draft in lang as plain text.
func (d *Draft) Text(lang string, loc *time.Location) string {
	var b strings.Builder
	d.write(&b, lang, loc, false)
	return b.String()
}

// Markdown renders the revision: the draft, the written fields and the
// signature block.
func (r *Revision) Markdown(lang string, loc *time.Location) string {
	var b strings.Builder
	r.Draft.write(&b, lang, loc, true)
	r.writeFields(&b, lang, loc, true)
	return b.String()
}

// Text renders the revision as plain text.
func (r *Revision) Text(lang string, loc *time.Location) string {
	var b strings.Builder
	r.Draft.write(&b, lang, loc, false)
	r.writeFields(&b, lang, loc, false)
	return b.String()
}

func tr(lang, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

func stamp(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006-01-02 15:04:05")
}

func heading(b *strings.Builder, md bool, level int, s string) {
	if md {
		fmt.Fprintf(b, "%s %s\n\n", strings.Repeat("#", level), s)
		return
	}
	fmt.Fprintf(b, "%s\n%s\n\n", s, strings.Repeat("=", len([]rune(s))*2))
}

func item(b *strings.Builder, md bool, s string) {
	if md {
		b.WriteString("- ")
	}
	b.WriteString(s)
	b.WriteString("\n")
}

func (d *Draft) write(b *strings.Builder, lang string, loc *time.Location, md bool) {
	in := &d.Incident
	heading(b, md, 1, tr(lang, "事件报告：", "Incident report: ")+incidentName(in, lang))
	item(b, md, tr(lang, "事件编号：", "Incident: ")+in.ID)
	item(b, md, tr(lang, "首次告警：", "First alarm: ")+stamp(in.StartedAt, loc))
	item(b, md, tr(lang, "事件成立：", "Opened: ")+stamp(in.OpenedAt, loc))
	if in.ResolvedAt != nil {
		item(b, md, tr(lang, "恢复：", "Resolved: ")+stamp(*in.ResolvedAt, loc))
	} else {
		item(b, md, tr(lang, "恢复：尚未恢复", "Resolved: not yet"))
	}
	for i := range in.Deadlines {
		dl := &in.Deadlines[i]
		item(b, md, fmt.Sprintf("%s%s %s（%s）", tr(lang, "报告时限：", "Deadline: "), kindLabel(dl, lang), stamp(dl.Due, loc), dl.Responsible))
	}
	b.WriteString("\n")
	heading(b, md, 2, tr(lang, "经过", "Timeline"))
	for _, e := range d.Timeline {
		item(b, md, stamp(e.At, loc)+"  "+title(e.Text, e.Kind+" "+e.State, lang))
	}
	b.WriteString("\n")
	if len(d.Facts) > 0 {
		heading(b, md, 2, tr(lang, "当日记录", "The day's record"))
		for _, f := range d.Facts {
			item(b, md, title(f.Label, "", lang)+tr(lang, "：", ": ")+f.Value)
		}
		b.WriteString("\n")
	}
	if len(d.Missing) > 0 {
		missing := make([]string, len(d.Missing))
		for i, m := range d.Missing {
			if date, ok := strings.CutPrefix(m, "daily record "); ok && lang == "zh" {
				m = "当日记录 " + date
			}
			missing[i] = m
		}
		item(b, md, tr(lang, "未能读取：", "Not available: ")+strings.Join(missing, ", "))
		b.WriteString("\n")
	}
}

func (r *Revision) writeFields(b *strings.Builder, lang string, loc *time.Location, md bool) {
	for _, f := range []struct{ zh, en, v string }{
		{"原因", "Cause", r.Fields.Cause}, {"影响", "Impact", r.Fields.Impact}, {"处置措施", "Measures", r.Fields.Measures},
	} {
		heading(b, md, 2, tr(lang, f.zh, f.en))
		v := f.v
		if strings.TrimSpace(v) == "" {
			v = tr(lang, "（待填写）", "(to be completed)")
		}
		b.WriteString(v + "\n\n")
	}
	heading(b, md, 2, tr(lang, "签字", "Signature"))
	item(b, md, fmt.Sprintf("%s%d", tr(lang, "版本：", "Revision: "), r.N))
	if r.Corrects > 0 {
		item(b, md, fmt.Sprintf(tr(lang, "更正第 %d 版：%s", "Corrects revision %d: %s"), r.Corrects, r.Reason))
	}
	item(b, md, tr(lang, "填写：", "Written by: ")+r.EditedBy+" "+stamp(r.EditedAt, loc))
	if s := r.Signed; s != nil {
		item(b, md, tr(lang, "签字：", "Signed by: ")+s.By+" "+stamp(s.At, loc)+note(s.From, " @ "))
	} else {
		item(b, md, tr(lang, "签字：未签字", "Signed: not yet"))
	}
}
