package notify

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/channels"

	"go.uber.org/goleak"

	"github.com/roomwatch/roomwatch/internal/testutil"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func TestMain(m *testing.M) {
	// "test" is a channel kind the tests hand in themselves (Options.Channels).
	kinds["test"] = kind{}
	kinds["robot"] = kind{rate: "20/min"}
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m)
}

// baseYAML is a notify section: two people on a day/night roster, the
// department head and the deputy director up the chain.
const baseYAML = `
timezone: Asia/Shanghai
storm: {window: 0s}
channels:
  - {name: sms, kind: test}
people:
  - {name: 张三, mobile: "13800138001", channels: [sms]}
  - {name: 李四, mobile: "13800138002", channels: [sms]}
  - {name: 王主任, title: 科主任, mobile: "13800138003", channels: [sms]}
  - {name: 赵院长, title: 分管院长, mobile: "13800138004", channels: [sms]}
groups:
  - {name: 机房组, members: [张三, 李四]}
roster:
  shifts:
    - {name: day, title: 白班, hours: "08:00-20:00"}
    - {name: night, title: 夜班, hours: "20:00-08:00"}
  week:
    mon..fri: {day: [张三], night: [李四]}
    sat..sun: {day: [李四], night: [李四]}
  holidays: {day: [王主任], night: [王主任]}
  dates:
    "2026-12-24": {night: [赵院长]}
  calendar: {weekdays: [mon..fri], holidays: ["2026-10-01..2026-10-07"]}
routes:
  - name: all
    levels:
      - {after: 0s, to: [on-duty]}
      - {after: 10m, to: [王主任]}
      - {after: 30m, to: [赵院长]}
    repeat: 5m
`

// parse decodes and validates a notify section.
func parse(t testing.TB, src string, edit ...func(*Config)) (*Config, error) {
	t.Helper()
	c := DefaultConfig()
	f, err := yamlconf.Decode("notify.yaml", []byte(src), &c)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	for _, e := range edit {
		e(&c)
	}
	errs := yamlconf.Errors{File: f}
	c.Validate(&errs, "", []string{"main"})
	return &c, errs.Err()
}

func mustParse(t testing.TB, src string, edit ...func(*Config)) *Config {
	t.Helper()
	c, err := parse(t, src, edit...)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

var shanghai = testutil.Shanghai

// at is a local time in Shanghai: "2026-12-01 09:30".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func names(ts []Target) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key)
	}
	return strings.Join(out, ",")
}

// yamlDecode decodes and validates a notify section outside a test.
func yamlDecode(src string, c *Config) (*yamlconf.File, error) {
	f, err := yamlconf.Decode("notify.yaml", []byte(src), c)
	if err != nil {
		return nil, err
	}
	errs := yamlconf.Errors{File: f}
	c.Validate(&errs, "", []string{"main"})
	return f, errs.Err()
}

func testChans(names ...string) map[string]channels.Channel {
	out := map[string]channels.Channel{}
	for _, n := range names {
		out[n] = &fakeChannel{name: n}
	}
	return out
}
