package notify

import (
	"strings"
	"testing"
)

// TestConfigErrors: bad input is named by file, line and field.
func TestConfigErrors(t *testing.T) {
	src := `channels:
  - {name: sms, kind: test}
  - {name: pager, kind: carrier-pigeon}
  - {name: gw, kind: httpsms, httpsms: {url: "http://127.0.0.1:1/send", body: "{{.Nope}}"}}
people:
  - {name: 张三, mobile: "1380013800", channels: [sms]}
  - {name: 李四, mobile: "13800138002", channels: [fax]}
groups:
  - {name: 机房组, members: [张三, 王五]}
roster:
  shifts:
    - {name: day, hours: "08:00-20:00"}
    - {name: night, hours: "20:00-07:00"}
  week:
    mon..fri: {day: [张三], night: [李四]}
    sat..sun: {day: [李四]}
routes:
  - levels:
      - {after: 0s, to: [on-duty, 值班长]}
      - {after: 10m, to: [机房组]}
template: "{{.Label}{{.Text}}"
`
	_, err := parse(t, src)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"notify.yaml:3: .channels[1].kind: unknown channel kind \"carrier-pigeon\"",
		"notify.yaml:4: .channels[2].httpsms.body:",
		"notify.yaml:6: .people[0].mobile: \"1380013800\": not a mobile number",
		"notify.yaml:7: .people[1].channels[0]: unknown channel \"fax\"",
		"notify.yaml:9: .groups[0].members[1]: unknown person \"王五\"",
		"notify.yaml:12: .roster.shifts: no shift covers 07:00: a roster gap",
		"notify.yaml:15: .roster.week.sat..sun: shift night (night) has nobody: a roster gap",
		"notify.yaml:19: .routes[0].levels[0].to[1]: unknown person or group \"值班长\"",
		"notify.yaml:21: .template:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
}

// TestConfigOK: the base configuration and its defaults.
func TestConfigOK(t *testing.T) {
	c := mustParse(t, baseYAML)
	if c.Consumer != "roomwatch-notify" || c.AckWait.Seconds() != 30 || c.DeadMan.Silence.Seconds() != 60 || c.Retry.Attempts != 6 {
		t.Errorf("defaults: %+v", c)
	}
	if c.Routes[0].Repeat == nil || c.Routes[0].Repeat.Minutes() != 5 {
		t.Errorf("repeat %v", c.Routes[0].Repeat)
	}
	for _, m := range []string{"13800138000", "+8613800138000", "+447700900123"} {
		if !ValidMobile(m) {
			t.Errorf("%s: rejected", m)
		}
	}
}

func TestParseAck(t *testing.T) {
	for in, want := range map[string]string{
		"确认 1234": "1234", "确认1234": "1234", "ACK 1234": "1234", "ack 1234 ": "1234",
		"ＡＣＫ　１２３４": "1234", "确认：1234": "1234", "好的": "", "确认 12345": "", "1234": "",
	} {
		if got := ParseAck(in); got != want {
			t.Errorf("ParseAck(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NormalizeMobile("+86 138-0013-8000"); got != "13800138000" {
		t.Errorf("NormalizeMobile: %s", got)
	}
}
