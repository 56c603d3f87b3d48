package alerts

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Subject prefixes of the messages this package publishes.
const (
	AlarmSubjectPrefix = "roomwatch.alarm"
	DailySubjectPrefix = "roomwatch.daily"
)

// Token makes s usable as one token of a NATS subject: dots, wildcards
// (* and >), whitespace and control characters become "_"; an empty s
// becomes "_". Other characters, Chinese included, are kept.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '.' || r == '*' || r == '>' || r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// KeyToken makes s usable as one dot-separated token of a JetStream
// key-value key or in a stream name, whose alphabet is A-Z a-z 0-9 - _ =:
// every other byte is written as "=" and two hex digits (so "机房" stays
// distinct from any ASCII name and the mapping can be reversed).
func KeyToken(s string) string {
	if s == "" {
		return "_"
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// AlarmSubject is the subject of an alarm message:
// roomwatch.alarm.<site>.<room>.<severity>.
func AlarmSubject(site, room string, sev Severity) string {
	return AlarmSubjectPrefix + "." + Token(site) + "." + Token(room) + "." + Token(string(sev))
}

// SiteAlarmSubjects is the subject filter of every alarm of site.
func SiteAlarmSubjects(site string) string {
	return AlarmSubjectPrefix + "." + Token(site) + ".>"
}

// Subject is the subject a is published on.
func (a *Alarm) Subject() string { return AlarmSubject(a.Site, a.Room, a.Severity) }

// StateKey is the key of an alarm in the state bucket:
// <site>.<fingerprint>, so a hub holding several sites can list one.
func StateKey(site, fingerprint string) string {
	return KeyToken(site) + "." + KeyToken(fingerprint)
}

// Key is the key of a in the state bucket.
func (a *Alarm) Key() string { return StateKey(a.Site, a.Fingerprint) }

// AlarmStreamName is the name of site's alarm stream:
// <prefix>_<site> (ROOMWATCH_ALARMS_<site> by default).
func AlarmStreamName(prefix, site string) string {
	return prefix + "_" + KeyToken(site)
}

// DailyKey is the key of a daily record: <site>.<room>.<yyyy-mm-dd>.
func DailyKey(site, room, date string) string {
	return KeyToken(site) + "." + KeyToken(room) + "." + date
}

// DailySubject is the subject a daily record is published on:
// roomwatch.daily.<site>.<room>.<yyyymmdd>.
func DailySubject(site, room, date string) string {
	return DailySubjectPrefix + "." + Token(site) + "." + Token(room) + "." + strings.ReplaceAll(date, "-", "")
}

func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s: empty", what)
	}
	if strings.ContainsAny(s, ". *>/\\\t\r\n") {
		return fmt.Errorf("%s %q: must not contain dots, spaces, wildcards or slashes", what, s)
	}
	return nil
}
