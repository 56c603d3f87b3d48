// Package notify is roomwatch's notifier: it turns alarms on JetStream
// into messages people read on a phone, and makes sure someone reacts.
//
// A Notifier is a durable JetStream consumer of every site's alarm stream
// (ROOMWATCH_ALARMS_<site>) and of acknowledgements (ROOMWATCH_ACKS).
// Several notifiers on one stream share the work: they bind to one
// durable consumer name and pull from it. For each alarm it decides who
// is told (routes by site, room, severity and time of day, groups, and
// the duty roster 值班表 with its holiday calendar), groups a storm of
// alarms of one site into one message per person and channel (the worst
// first), and queues it on each channel, critical first, within the
// channel's rate limit, per-person limits and quiet hours.
//
// Nothing is sent twice: before a send, every (alarm, step, person,
// channel) is claimed with a Create in the key-value bucket
// roomwatch_notify_sent, so a second notifier loses the race; after the
// channel answered, the key says sent, unknown or dead. The alarm message
// is acknowledged to JetStream only once every send it caused is done, so
// a notifier killed mid-storm leaves its messages to the others.
//
// An alarm nobody acknowledged goes up its route's chain (on duty → 科主任
// → 分管院长) after each level's delay; a critical one is repeated until
// acknowledged or resolved; the resolution goes to everyone who was told.
// Escalations wait in the bucket roomwatch_notify_pending, so they
// survive restarts. An acknowledgement arrives on ROOMWATCH_ACKS, as an
// alarm message in state acknowledged, or as an SMS reply "确认 1234" to a
// receiving channel from a known person's number (published as an Ack).
//
// Every attempt is a Delivery on ROOMWATCH_DELIVERIES; a send that keeps
// failing goes to roomwatch.notify.deadletter.<site> and raises the alarm
// notify-channel-failing, sent over the remaining channels. The notifier
// is also the monitor's dead man's switch (a site whose heartbeat stops
// pages the person on duty) and sends a daily self-test.
//
// Time is passed in: the deciding parts (roster, routes, escalation,
// quiet hours, limits, storm windows) take now and never call time.Now.
package notify
