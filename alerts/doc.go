// Package alerts is roomwatch's alarm model and its NATS JetStream form:
// the Alarm message, its lifecycle (firing → acknowledged → resolved),
// publishing it per site with idempotent message ids, the alarm state
// bucket that lets the monitor restart without re-announcing or losing an
// alarm, and the listing behind `roomwatch alarms`. The daily inspection
// record lives in alerts/daily.
//
// This comment is the contract for every consumer (the SMS/WeCom
// notifier, the patrol screen, anything else subscribing).
//
// # JetStream layout
//
// Per site, created or updated by the monitor at start (EnsureStreams):
//
//	stream   ROOMWATCH_ALARMS_<site>      subjects roomwatch.alarm.<site>.>
//	         file storage, limits retention, discard old, max age 400 d,
//	         max 1 GiB, messages ≤ 64 KiB, duplicate window 2 h, deletes of
//	         single messages denied (alarms are audit records)
//	bucket   roomwatch_alarm_state        key <site>.<fingerprint>, history 5
//	bucket   roomwatch_daily              key <site>.<room>.<yyyy-mm-dd>
//	stream   ROOMWATCH_ACKS               subjects roomwatch.ack.>, shared by every site
//	         (retention, duplicate window and deletes as the alarm streams)
//	consumer roomwatch_state              on each alarm stream: the monitor's
//	         state bucket follows the stream through it (StateApplier)
//	consumer roomwatch_monitor_<site>     on ROOMWATCH_ACKS, filter
//	         roomwatch.ack.<site>.>: the monitor applies acknowledgements
//
// The notifier creates ROOMWATCH_DELIVERIES (roomwatch.delivery.<site>.<room>,
// see Delivery); the monitor reads it into the daily record once it exists.
// Heartbeats (roomwatch.heartbeat.<site>, see Heartbeat) are core NATS
// messages, not stored: every HeartbeatInterval per site, with its
// devices, those that answered their last poll, and its alarms firing.
//
// Subjects are roomwatch.alarm.<site>.<room>.<severity>; a token has dots,
// spaces and wildcards replaced by "_" (Token). Keys escape every byte
// outside A-Z a-z 0-9 - _ as "=" and two hex digits (KeyToken), so
// Chinese room names are valid keys. A consumer filters by subject, e.g.
// roomwatch.alarm.main.*.critical for every critical alarm of site main.
//
// JetStream flushes to disk on the server's sync interval (two minutes by
// default); alarms are few and small, so the server that holds them
// should run with a short sync interval or sync_always (a server-wide
// setting in nats-server 2.15; see the monitor's NATS options).
//
// # Message (schema roomwatch.alarm/v1)
//
// Every message on an alarm subject, and every value in the state bucket,
// is one JSON object, UTF-8, with the header Nats-Msg-Id = MsgID and
// Roomwatch-Schema = roomwatch.alarm/v1:
//
//	{
//	  "schema": "roomwatch.alarm/v1",   // always; a consumer rejects other majors
//	  "v": 1,                           // the same version as a number
//	  "id": "3f9a…-20261125T021503.000000000Z",  // occurrence: fingerprint + started_at
//	  "fingerprint": "3f9a…",           // rule + what it matched; stable across restarts
//	  "rule": "ups-on-battery",
//	  "severity": "critical",           // critical | major | minor | warning
//	  "state": "firing",                // firing | acknowledged | resolved
//	  "site": "main", "room": "room1", "device": "ups1",   // device absent for room-wide rules
//	  "profile": "rfc1628-ups", "class": "ups",
//	  "labels": {"site": "main", "room": "room1", …},      // all labels, the above included
//	  "site_title": {"zh": "总院", "en": "Main campus"},   // display names, when configured
//	  "room_title": {"zh": "一号机房", "en": "Room 1"}, "device_title": {"zh": "UPS1", "en": "UPS1"},
//	  "values": {"on_battery": {"value": 1, "title": {"zh": "电池供电", "en": "on battery"}},
//	             "runtime_min": {"value": 42, "unit": "min", "title": {"zh": "电池后备时间", "en": "battery runtime"}},
//	             "battery_status": {"value": 3, "text": "low"},
//	             "temperature_c": {"value": 0, "unit": "°C", "quality": "sensor-fault"}},
//	  "thresholds": {"above": 28, "clear": 27},
//	  "active_at": "2026-11-25T02:14:33Z",   // condition began to hold (before "for")
//	  "started_at": "2026-11-25T02:15:03Z",  // fired
//	  "ended_at": "2026-11-25T02:40:00Z",    // resolved only
//	  "updated_at": "2026-11-25T02:40:00Z",  // when this message was made
//	  "ack_by": "张三", "ack_at": "…", "ack_note": "…",   // once acknowledged
//	  "ack_via": "sms",                 // how: cli | sms | patrol | wecom
//	  "text": {"zh": "一号机房 UPS1 市电中断，电池供电…", "en": "Room 1 UPS1 on battery…"}
//	}
//
// Times are RFC 3339 in UTC; a consumer shows them in the site's zone.
// values[*].value is a number (bools are 0/1); text carries an enum's
// label; quality is present only when the value could not be read;
// title is the value's display name from its profile (show it, not the
// value's identifier, to people).
// Optional fields are omitted, never null. New optional fields may be
// added within v1; consumers ignore fields they do not know.
//
// # Lifecycle and ids
//
// The monitor publishes "firing" when a rule fires and "resolved" when it
// clears, both for the same id. Nats-Msg-Id is
// <fingerprint>:<state>:<started_at>, so a message published again (a
// monitor restarted before it saw the PubAck) is stored once, while each
// state change of an occurrence is stored. The state bucket holds the
// latest message of each fingerprint; resolved entries are kept until the
// fingerprint fires again.
//
// # Acknowledgements (schema roomwatch.ack/v1)
//
// Whoever acknowledges — the patrol screen, an SMS reply to the
// notifier's modem, `roomwatch ack ID --comment TEXT --by NAME` — only
// publishes an Ack (PublishAck) on roomwatch.ack.<site>.<room>; the
// monitor, the single writer of alarm state, applies it (AckApplier,
// ApplyAck): the state bucket entry gets ack_by, ack_at, ack_note and
// ack_via (compare-and-swap; the first acknowledgement wins), and the
// monitor publishes the alarm again on its subject with Nats-Msg-Id
// <fingerprint>:acknowledged:<started_at> (AckMsgID): state
// "acknowledged", or "resolved" with ack_by set when it had already
// cleared. An Ack of an unknown alarm, or of an occurrence that is no
// longer the fingerprint's latest, is logged and dropped. An Ack
// published while the monitor is down is applied when it starts (durable
// consumer).
//
// Read alarms through a JetStream consumer (durable, acknowledged), not a
// plain subscription: JetStream stores a re-published message once, but a
// plain subscriber on the subject sees every publish, duplicates
// included. A consumer that must not act twice keys its work by MsgID.
//
// # Durability and restart
//
// A transition is durable when the alarm stream stored its message: the
// rules engine's NotifyFunc (Publisher.Handle) returns only then (or after
// PublisherOptions.SyncTimeout, when JetStream is unreachable, leaving the
// alarm to the retrying goroutine), and the monitor hands a sample set to
// the sample spool only after the rules engine evaluated it, so no sample
// on disk shows an episode whose alarm a kill -9 could lose. The embedded
// server fsyncs alarm streams on every write (sync_always). The state
// bucket follows the stream through the durable consumer roomwatch_state
// (StateApplier); at start the monitor first applies what the bucket
// missed (CatchUp), then reads it (LoadState) and restores the rules
// engine with RestoreAlerts: an alarm that still fires is not announced
// again, and one whose condition cleared while the monitor was down is
// resolved on the first evaluation, with the same id as its firing
// message.
package alerts
