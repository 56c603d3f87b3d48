package alerts

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

func TestTokens(t *testing.T) {
	for _, c := range []struct{ in, token, key string }{
		{"room1", "room1", "room1"},
		{"a.b", "a_b", "a=2Eb"},
		{"two words", "two_words", "two=20words"},
		{"*", "_", "=2A"},
		{">", "_", "=3E"},
		{"", "_", "_"},
		{"机房", "机房", "=E6=9C=BA=E6=88=BF"},
		{"tab\there", "tab_here", "tab=09here"},
	} {
		if got := Token(c.in); got != c.token {
			t.Errorf("Token(%q) = %q, want %q", c.in, got, c.token)
		}
		if got := KeyToken(c.in); got != c.key {
			t.Errorf("KeyToken(%q) = %q, want %q", c.in, got, c.key)
		}
	}
	if got := AlarmSubject("main site", "r.1", Critical); got != "roomwatch.alarm.main_site.r_1.critical" {
		t.Errorf("AlarmSubject = %q", got)
	}
	if got := DailySubject("main", "room1", "2026-11-25"); got != "roomwatch.daily.main.room1.20261125" {
		t.Errorf("DailySubject = %q", got)
	}
	if got := DailyKey("main", "一号", "2026-11-25"); got != "main.=E4=B8=80=E5=8F=B7.2026-11-25" {
		t.Errorf("DailyKey = %q", got)
	}
}

func TestFromTransitionIgnoresPending(t *testing.T) {
	al := onBattery()
	for _, c := range []struct{ from, to rules.State }{
		{rules.Inactive, rules.Pending},
		{rules.Pending, rules.Inactive},
		{rules.Firing, rules.Firing},
	} {
		if a := FromTransition(rules.Transition{Alert: al, From: c.from, To: c.to, At: t0}); a != nil {
			t.Errorf("%s→%s gave an alarm: %+v", c.from, c.to, a)
		}
	}
	if a := FromTransition(rules.Transition{Alert: al, From: rules.Inactive, To: rules.Firing, At: fired}); a == nil || a.State != Firing || !a.StartedAt.Equal(fired) {
		t.Errorf("inactive→firing without FiredAt: %+v", a)
	}
}

func TestLifecycle(t *testing.T) {
	a := FromTransition(firingTransition())
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if !a.Active() {
		t.Error("firing alarm not active")
	}
	ackAt := fired.Add(time.Minute)
	if err := a.Acknowledge(" ", "", ackAt); err == nil {
		t.Error("blank name accepted")
	}
	if err := a.Acknowledge("张三", "on my way", ackAt); err != nil {
		t.Fatal(err)
	}
	if a.State != Acknowledged || a.AckBy != "张三" || !a.UpdatedAt.Equal(ackAt) || !a.Active() {
		t.Errorf("after ack: %+v", a)
	}
	if err := a.Acknowledge("李四", "", ackAt); !errors.Is(err, ErrAcknowledged) {
		t.Errorf("second ack: %v", err)
	}
	a.Resolve(cleared)
	a.Resolve(cleared.Add(time.Hour)) // no effect
	if a.State != Resolved || !a.EndedAt.Equal(cleared) || a.Active() || a.Duration(cleared.Add(time.Hour)) != cleared.Sub(fired) {
		t.Errorf("after resolve: %+v", a)
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}

	r := FromTransition(resolvedTransition())
	if err := r.Acknowledge("王五", "", cleared.Add(time.Minute)); err != nil || r.State != Resolved || r.AckBy != "王五" {
		t.Errorf("ack after resolve: %v %+v", err, r)
	}
	if got := r.Message("fr"); got != "一号机房 UPS1 市电恢复" {
		t.Errorf("Message falls back to %q, want Chinese", got)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, err := FromTransition(firingTransition()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ data, want string }{
		"not json":     {"{", "decode"},
		"other schema": {strings.Replace(string(good), Schema, "roomwatch.alarm/v2", 1), `schema "roomwatch.alarm/v2"`},
		"bad severity": {strings.Replace(string(good), `"critical"`, `"urgent"`, 1), `severity "urgent"`},
		"bad state":    {strings.Replace(string(good), `"firing"`, `"burning"`, 1), `state "burning"`},
		"no site":      {strings.Replace(string(good), `"site":"main"`, `"site":""`, 1), "site empty"},
	} {
		if _, err := Unmarshal([]byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to mention %q", name, err, c.want)
		}
	}
	a, err := Unmarshal(good)
	if err != nil || a.Fingerprint != "fp-ups1-onbatt" {
		t.Errorf("good message: %v %v", a, err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	var errs yamlconf.Errors
	c.Validate(&errs, "alerts")
	if err := errs.Err(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := Config{StreamPrefix: "A.B", MaxAge: time.Hour, Duplicates: 2 * time.Hour, MaxMsgSize: 10, Replicas: 7, StateBucket: "x y", StateHistory: 1, DailyBucket: "d", DailyHistory: 0}
	errs = yamlconf.Errors{}
	bad.Validate(&errs, "alerts")
	msg := errs.Err().Error()
	for _, want := range []string{"alerts.stream_prefix", "alerts.duplicates: must not exceed max_age", "alerts.max_msg_size", "alerts.replicas", "alerts.state_bucket", "alerts.daily_history"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	var z Config
	z.Defaults()
	if z != DefaultConfig() {
		t.Errorf("Defaults on zero = %+v", z)
	}
}
