// Package incident opens incidents from alarms and runs their reporting
// clocks (issue 10, item 6): an alarm of a configured class opens an
// incident with a national reporting deadline (国家网络安全事件报告管理办法,
// in force since 2025-11-01, art. 4: 1 h for critical information
// infrastructure, 2 h for units of central and state organs, 4 h for
// other operators) and the hospital's own deadline (24 h), both
// configurable; the tracker reminds the responsible person before a
// deadline runs out and raises an overdue alarm after it, through the
// alarm stream so the notifier tells someone; the report is drafted from
// the record, completed, signed and printed.
//
// # Configuration (the "incidents" section)
//
//	incidents:
//	  operator: other              # cii (1 h) | central (2 h) | other (4 h)
//	  hospital_deadline: 24h
//	  hospital_responsible: 信息科科长
//	  remind_before: 30m           # half the deadline when shorter
//	  classes:
//	    - name: mains-lost
//	      title: {zh: 市电中断超过后备时间一半, en: mains lost beyond half the carry time}
//	      match: {rules: [ups-on-battery]}          # also severities, sites, rooms
//	      condition: {kind: mains-lost, share: 0.5} # of rules.Room.CarryTime
//	      responsible: 信息科值班长
//	    - name: his-unreachable
//	      title: {zh: HIS 机房全部设备失联, en: HIS room unreachable}
//	      match: {rules: [device-unreachable], rooms: [his]}
//	      condition: {kind: room-unreachable}       # every device of the room
//	      operator: cii
//	      responsible: 信息科值班长
//	    - name: over-temperature
//	      title: {zh: 机房温度超过关机温度, en: room above its shutdown temperature}
//	      match: {rules: [room-temperature-critical]}
//	      condition: {kind: above, value: temperature_c, fact: shutdown_temperature_c, above: 35}
//	      deadline: 4h                              # overrides the operator's
//	      responsible: 信息科值班长
//
// Config.Validate reports problems as "file:line: field: message"
// (yamlconf.Errors); Parse reads a file holding the section alone.
//
// # Where
//
//	bucket  roomwatch_incidents  inc.<site>.<id>      the Incident (JSON, roomwatch.incident/v1)
//	                             rep.<site>.<id>.<n>  report revision n (roomwatch.incident-report/v1)
//	consumer roomwatch-incidents (durable) on each ROOMWATCH_ALARMS_<site>
//
// An incident id is <class>_<room>_<first alarm's start, UTC>, so a
// redelivered alarm, a restarted tracker or a consumer replaying the
// stream finds the incident it opened before (the key is created once).
// One incident covers one episode: it stays open while an alarm of its
// class is active in the room, collects every alarm of the room meanwhile,
// and is resolved when the class's last alarm resolves.
//
// # Clocks
//
// The clocks start when the class's condition is met (Incident.OpenedAt:
// the alarm's start, the moment the last device of the room went down,
// or the alarm's start plus share × carry time). RemindBefore a deadline
// the tracker publishes an incident-report-due alarm (major, zh/en text
// naming the incident, the deadline, the due time, the minutes left and
// the responsible), at the deadline an incident-report-overdue alarm
// (and resolves the reminder); when the report is signed both are
// resolved. Each alarm's occurrence starts at its reminder or due time,
// and the tracker records what it raised on the incident, so a restart
// publishes nothing twice. Incident.Left gives the clock the screen
// shows.
//
// # Reports
//
// Store.Draft drafts the report from the record: the episode's alarm
// messages (alarm stream), their notifications (alerts.Delivery on
// ROOMWATCH_DELIVERIES; a missing stream is named in Draft.Missing) and
// acknowledgements (alerts.Ack on ROOMWATCH_ACKS), the opening and the
// resolution, in time order, with the facts of the day's record
// (alerts/daily). Draft.Markdown and Draft.Text render it in zh or en.
// A person completes it (Store.Complete: cause, impact, measures) and
// signs it (Store.Sign); every step stores a new revision, a signed one
// is never changed, and a change after signing is Store.Correct: a new
// revision naming the signed one and why, signed in turn. Revisions
// returns them all; Revision.Markdown/Text render one with its signature
// block for printing.
//
// # Wiring
//
// The monitor starts a Tracker with its alarm pipeline when the
// configuration has an incidents section (cmd/roomwatch alarms.go,
// startIncidents): EnsureBucket, NewStore, NewTracker with the pipeline's
// publisher and alarm state bucket, Start; Stop at shutdown.
//
// The screen needs only a Store on the same bucket: List and Get for the
// incidents and their clocks (Incident.Left), Draft, Latest/Revisions,
// Complete, Sign, Correct for the report pages.
package incident
