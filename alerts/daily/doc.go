// Package daily keeps the raw material of the daily inspection record
// (巡检记录): for each room and local day, what the samples and alarms
// showed, ready for the patrol screen to fill its checklist from and for
// the person on duty to sign.
//
// A Recorder folds every sample set (Observe) and alarm message
// (ObserveAlarm, or FollowAlarms) into the record of its room and day,
// in memory and without I/O; Start loads the day's records from the
// daily key-value bucket so a restart continues the day, and changed
// records are put in the bucket and published: at the next FlushInterval
// (30 s) after a change a person acts on — a door, mains, a discrete
// sensor, a device's reachability, an analog value leaving or re-entering
// its range, a fault, the first reading of a value, a new device or day,
// an alarm, who was told — and otherwise, when only statistics moved
// (counts, minima and maxima, hours, last values, durations of states
// that hold), at most every StatsInterval (5 m): a room's record runs to
// hundreds of kilobytes by the evening and every sample changes it. Stop
// writes every change. Days begin at local midnight in the configured
// time zone (Asia/Shanghai by default); the time of a record is always
// the time of its samples, never the clock.
//
// # Where
//
//	bucket  roomwatch_daily   key <site>.<room>.<yyyy-mm-dd>  (alerts.DailyKey)
//	subject roomwatch.daily.<site>.<room>.<yyyymmdd>         (alerts.DailySubject)
//
// The bucket holds the current version of each record (and the previous
// one); the subject carries each new version as it is written, at most
// every flush interval. Between writes, a record's analog "last" values,
// statistics and updated_at may lag the samples by up to the stats
// interval (plus a flush interval); its events never lag by more than a
// flush interval. A reader that starts late gets the record from the
// bucket (Load) and then follows the subject (or watches the key).
//
// # Record (schema roomwatch.daily/v1)
//
//	{
//	  "schema": "roomwatch.daily/v1", "v": 1,
//	  "site": "main", "room": "room1", "date": "2026-11-25", "tz": "Asia/Shanghai",
//	  "from": "2026-11-25T00:00:00+08:00", "to": "2026-11-26T00:00:00+08:00",
//	  "updated_at": "…",                    // latest sample or alarm folded in
//	  "summary": {
//	    "devices": 3, "door_openings": 4, "after_hours_openings": 1,
//	    "mains_loss_episodes": 1,           // episodes that began this day
//	    "mains_loss_s": 1500, "on_battery": false,
//	    "out_of_range_s": 600,              // all analog values together
//	    "comms_lost_s": 0, "min_availability": 1,
//	    "alarms": 2, "active_alarms": 0, "unacknowledged_alarms": 1,
//	    "discrete": {"spd_fault": "ok", "water_leak": "ok", "smoke": "ok"}
//	  },
//	  "devices": {
//	    "<device>": {
//	      "profile": "modbus-th", "class": "env",
//	      "polls": 8640, "polls_ok": 8639, "availability": 0.9999,
//	      "comms_lost_s": 10, "first_poll_at": "…", "last_poll_at": "…",
//	      "last_ok_at": "…", "reachable": true,
//	      "analog": {"temperature_c": {"unit": "°C", "count": 8639, "sum": …,
//	          "min": 21.2, "max": 28.4, "mean": 23.9, "last": 23.1,
//	          "min_at": "…", "max_at": "…", "last_at": "…", "faults": 0,
//	          "range": {"min": 18, "max": 27}, "out_of_range_s": 600, "excursions": 1,
//	          "hours": [null, {"count": 360, "sum": …, "min": 22.8, "max": 23.4,
//	                           "mean": 23.1, "last": 23.2}, …]}},  // 24 local hours
//	      "discrete": {"spd_fault": {"worst": "ok", "last": "ok", "alarm_count": 0, "alarm_s": 0}},
//	      "door": {"openings": 4, "after_hours": 1, "open_s": 840, "last_opened_at": "…", "open": false},
//	      "mains": {"episodes": [{"start": "…", "end": "…", "duration_s": 1500}],
//	                "battery_s": 1500, "on_battery": false},
//	      "last": [ {collectors.Value as JSON: name, unit, kind, num, str, quality}, … ]
//	    }
//	  },
//	  "alarms": [{"id": "…", "fingerprint": "…", "rule": "ups-on-battery",
//	      "severity": "critical", "state": "resolved", "device": "ups1",
//	      "started_at": "…", "ended_at": "…",
//	      "ack_by": "张三", "ack_at": "…",      // who acknowledged, when
//	      "ack_via": "sms", "ack_note": "…",    // how (cli | sms | patrol | wecom), their comment
//	      "text": {"zh": "…", "en": "…"},
//	      "told": [{"delivery": "…", "kind": "firing", "level": 0, "person": "李四",
//	                "channel": "sms-modem", "result": "delivered", "attempt": 1, "at": "…"}]}]
//	}
//
// Acknowledgements reach the record as the alarm messages the monitor
// publishes when it applies one (state "acknowledged", or "resolved" with
// ack_by set); an acknowledgement that comes after the resolution is kept.
// "told" lists who was told of the alarm, from the notifier's delivery
// records (alerts.Delivery on roomwatch.delivery.<site>.<room>, stream
// ROOMWATCH_DELIVERIES, which the notifier creates): FollowDeliveries
// reads them from two days back (a restart reads them again, which
// changes nothing) and looks for the stream again every retry while it
// does not exist; one entry per notification, person and channel, with
// its latest result (a retry or a handset's delivery report updates it).
//
// "hours" (added within v1; absent in older records) has 24 slots, one per
// hour of the room's local clock (0–23; on a day the clock goes back, the
// repeated hour shares its slot), each the statistics of that hour's good
// readings, null for an hour without any (no poll, or faults only). They
// are what the patrol screen draws the day's curve from.
//
// Discrete states, best to worst: ok, comms-lost, sensor-fault, alarm.
// Durations are whole seconds (counted at full precision, written
// rounded), means have two decimals, availability four. A state (out of range, door open, on battery,
// alarm, unreachable) counts from one poll to the next when they are at
// most max_gap apart; a longer gap (the monitor was down) counts for
// nothing. An episode open at midnight ends the day with "continues":
// true and begins the next with "continued": true at midnight; a door
// opening is counted only when the door was seen closed before, after-
// hours when the working-hours calendar says the time is outside them.
// New optional fields may be added within v1; readers ignore unknown ones.
package daily
