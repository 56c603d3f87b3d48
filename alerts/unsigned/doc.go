// Package unsigned raises an alarm when a room's daily patrol record is
// not signed by its configured hour (issue 10, item 5), and resolves it
// when the record gets signed.
//
// A Checker is given a clock, the rules' holiday calendar (the Contains
// method of a *rules.Calendar, e.g. the rule set's working_hours: a day
// is a working day when the calendar has working hours in it, so
// weekends, holidays and make-up working days follow the State Council's
// schedule), the
// hour of each room (Config: a workday hour, a weekend/holiday hour or
// none) and a SignedFunc that the patrol screen's storage implements.
// At every check, for each room and each of the last Lookback days whose
// hour has passed:
//
//   - unsigned and not yet raised, within 24 h of the hour: a
//     patrol-unsigned alarm (severity major) is published through
//     alerts.Publisher on the site's alarm stream, so the notifier tells
//     someone, e.g. "【重要】一号机房 12月1日 巡检未签字（应于 10:00 前完成）";
//   - signed while its alarm is active: the alarm is resolved.
//
// The alarm's fingerprint is rules.Fingerprint("patrol-unsigned", site,
// room, date) and its occurrence starts at the day's hour, so a restart
// or a second check finds it in the alarm state bucket and publishes
// nothing twice (JetStream also stores a re-published message once).
//
// Wiring (the lead): build the Checker where the Publisher and the state
// bucket exist (cmd/roomwatch app), with the screen's store as SignedFunc:
//
//	cfg.Defaults() // then Validate with the config file's yamlconf.Errors
//	c, err := unsigned.New(&cfg, workingHours(cfg.rules), store.Signed,
//		p.pub, p.kv, unsigned.Options{Inventory: cfg.inventory()}, log)
//	c.Start(ctx) … c.Stop()
//
// (workingHours is cmd/roomwatch's, the same calendar the daily record
// counts after-hours door openings with.)
package unsigned
