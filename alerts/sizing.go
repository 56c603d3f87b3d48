package alerts

import (
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// The alarm stream's default size. On an external NATS server a stream
// reserves its max_bytes from the account's storage when it is created,
// whether or not it ever fills, so the default is sized for what a busy
// hospital site produces rather than rounded up to a gigabyte:
//
//	AlarmMessageBytes()            ≈ 1.5 KiB: a UPS-on-battery alarm with its
//	                                 values and both texts, subject, headers
//	                                 and store overhead
//	× BusySiteMessagesPerDay         2,000: ~700 alarms a day, each stored as
//	                                 firing, acknowledged and resolved
//	× AlarmRetentionDays             400 (DefaultConfig's MaxAge)
//	= about 1.1 GiB, rounded up to the next 256 MiB: 1.25 GiB,
//	  DefaultAlarmMaxBytes (per site; the measure is in sizing_test.go).
//
// A quiet site (tens of alarms a day) uses a few percent of it; a site
// that produces more raises alerts.max_bytes, and `roomwatch check` prints
// what the configured streams reserve.
const (
	// BusySiteMessagesPerDay is the alarm messages a day of a busy site.
	BusySiteMessagesPerDay = 2000
	// AlarmRetentionDays is how long alarms are kept: a year and an
	// inspection.
	AlarmRetentionDays = 400
)

// DefaultAlarmMaxBytes is the default max_bytes of a site's alarm stream
// (see the arithmetic above).
var DefaultAlarmMaxBytes = alarmStreamBytes(BusySiteMessagesPerDay, AlarmRetentionDays)

// storeOverhead is what the JetStream file store adds to each message
// besides subject, headers and payload (record header, checksum, index).
const storeOverhead = 64

// alarmStreamBytes is what perDay messages a day for days take, rounded
// up to 256 MiB.
func alarmStreamBytes(perDay, days int) yamlconf.Size {
	const step = 256 << 20
	n := AlarmMessageBytes() * int64(perDay) * int64(days)
	return yamlconf.Size((n + step - 1) / step * step)
}

// AlarmMessageBytes is the stored size of one alarm message, measured by
// encoding a representative alarm (a room's UPS on battery, with its
// values, thresholds, labels and the Chinese and English texts) as the
// publisher does, with its subject, Nats-Msg-Id header and store overhead.
func AlarmMessageBytes() int64 {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	end := at.Add(42 * time.Minute)
	fp := "9f86d081884c7d65"
	a := &Alarm{
		Schema: Schema, V: V, Fingerprint: fp, ID: OccurrenceID(fp, at),
		Rule: "ups-on-battery", Severity: Critical, State: Resolved,
		Site: "hospital-a", Room: "server-room-1", Device: "ups-main-01", Profile: "rfc1628-ups", Class: "ups",
		Labels: map[string]string{"site": "hospital-a", "room": "server-room-1", "device": "ups-main-01",
			"profile": "rfc1628-ups", "class": "ups", "rack": "A01"},
		Values: map[string]Reading{
			"output_source":   {Value: 5, Text: "battery"},
			"runtime_min":     {Value: 38, Unit: "min"},
			"battery_charge":  {Value: 86, Unit: "%"},
			"input_voltage_v": {Value: 0, Unit: "V"},
			"output_load_pct": {Value: 41, Unit: "%"},
		},
		Thresholds: map[string]float64{"carry_time_min": 180},
		ActiveAt:   at, StartedAt: at, EndedAt: &end, UpdatedAt: end,
		AckBy: "值班员 张三", AckAt: &end, AckNote: "已通知供电科，市电恢复",
		Text: map[string]string{
			"zh": "【严重】一号院区 一号机房 主UPS 市电中断，UPS 电池供电：当前负载下预计 38 分钟，低于要求的 180 分钟后备时间",
			"en": "[CRITICAL] Hospital A server room 1 main UPS: mains lost, on battery: 38 min of runtime at the present load, less than the 180 min carry time",
		},
	}
	body, _ := a.Marshal()
	hdr := len("NATS/1.0\r\n" + nats.MsgIdHdr + ": " + a.MsgID() + "\r\n\r\n")
	return int64(len(body)+len(a.Subject())+hdr) + storeOverhead
}
