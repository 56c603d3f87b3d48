// Package patrol is the daily patrol sign-off screen (巡检签到): the
// machine-room inspection record filled from the monitor's data, checked
// and signed by the person on duty, with alarms to acknowledge and an
// audit trail an inspector can trust.
//
// It reads everything from NATS — daily records (bucket roomwatch_daily),
// alarm states (roomwatch_alarm_state), who was told (stream
// ROOMWATCH_DELIVERIES, optional) — and never InfluxDB, so it works with
// InfluxDB down. It writes acknowledgements (alerts.PublishAck, via
// "patrol", stream ROOMWATCH_ACKS: the monitor applies them and the
// notifier stops escalating), its own records in the bucket
// roomwatch_patrol (see Store), logins in roomwatch_patrol_sessions (so
// they survive a restart) and every login, scan, tick, signature,
// revision and acknowledgement in the hash-chained stream ROOMWATCH_AUDIT
// (package audit; `roomwatch audit verify`).
//
// # Pages and roles
//
//	GET  /                                  overview of every room today, live (viewer)
//	GET  /events                            the overview as server-sent events (viewer)
//	GET  /room/{site}/{room}/{date}         a room's day record, grouped as the paper form (viewer)
//	POST /room/{site}/{room}/{date}/tick    manual items: m_<id>=ok|abnormal, r_<id>=remark (operator)
//	POST /room/{site}/{room}/{date}/sign    sign: needs a scan of the room's code within patrol.presence (operator)
//	POST /room/{site}/{room}/{date}/revise  a correction as a new revision: reason, remarks, m_/r_ (admin)
//	GET  /room/{site}/{room}/qr             the room's printable QR code (admin)
//	GET  /scan?t=TOKEN                      where the code leads: marks the user present (operator)
//	GET  /history?room=site/room&from=&to=  days by date and room (viewer)
//	GET  /export.csv?room=&from=&to=        the same as CSV, UTF-8 with BOM (viewer)
//	GET  /alarms, POST /alarms/ack          active alarms; acknowledge with a comment (viewer, operator)
//	GET  /audit                             the audit chain's state and latest entries (admin)
//	GET  /incidents, /incident/{site}/{id}  incidents with their clocks; the report drafted from the record (viewer)
//	POST /incident/{site}/{id}/complete     a new report revision: base, cause, impact, measures (operator)
//	POST /incident/{site}/{id}/sign         sign revision n (operator)
//
// Anonymous users get the login page and nothing else. Every unsafe
// request passes Go's http.CrossOriginProtection; a role check sits in
// the one middleware chain (Server.need), never in a handler. Cookies are
// HttpOnly, SameSite=Lax, and Secure under HTTPS; failed logins are
// limited per client address and per user name; pages carry a CSP
// without inline script. Bad input (a bad date, an unknown room, a
// tampered form or code) gets one plain error page with a status code.
// Chinese is the default language; ?lang=en (remembered in a cookie)
// switches to English.
//
// # JSON API
//
// Behind every page, for the same roles, answers in the request's
// language:
//
//	GET /api/overview
//	  {"at": "…", "rooms": [{"key": "main/room1", "site", "room", "title", "date",
//	    "status": "ok|warning|alarm|nodata", "status_text", "signed": bool,
//	    "signed_text", "firing", "unacknowledged", "abnormal", "updated", "url"}]}
//	GET /api/room/{site}/{room}/{date}
//	  {"record": {"site", "room", "title", "date", "has_data", "updated", "stale",
//	     "sections": [{"id": "power|env|spd|door|water|comms|alarms", "title",
//	        "items": [{"id": "power.ups1.mains_loss", "title", "device",
//	                   "verdict": "ok|abnormal|nodata", "evidence": ["…"], "chart_note"}]}],
//	     "alarms": [{"id", "fingerprint", "rule", "severity", "severity_text", "state",
//	        "device", "text", "started", "ended", "ack_by", "ack_at", "told": ["…"], "ackable"}],
//	     "verdicts": {"<item id>": "ok|abnormal|nodata"}, "abnormal": 2},
//	   "manual": [{"id", "title", "result": "ok|abnormal|", "remark", "by", "at"}],
//	   "signoffs": [Signoff, newest first], "locked": bool}
//	GET /api/history?room=&from=&to=
//	  {"from", "to", "days": [{"date", "site", "room", "title", "has_data", "abnormal",
//	     "alarms", "rev", "signed_by", "signed_at", "url", "abnormal_items"}]}
//	GET /api/alarms
//	  {"alarms": [{"id", "fingerprint", "site", "room", "room_title", "severity",
//	     "severity_text", "state", "text", "started", "ack_by", "ack_at", "ackable"}]}
//
// Errors are {"error": "…", "status": N}.
//
// # Unsigned patrols and incidents
//
// With patrol.unsigned set, the screen runs the unsigned-patrol checker
// (alerts/unsigned) on its own signatures (Store.Signed): a day not
// signed by its hour raises patrol-unsigned on the site's alarm stream
// and state bucket like any alarm, so the notifier tells someone, and
// signing resolves it. When the configuration has an incidents section,
// the screen shows the incidents the monitor's tracker opens
// (alerts/incident: bucket roomwatch_incidents), their clocks on the
// overview and /incidents, and the report drafted from the record, which
// an operator completes (a new revision each time) and signs.
//
// # Proof of presence
//
// Each room's code (printed from /room/{site}/{room}/qr and posted at the
// patrol point) is a URL with a token: site, room and expiry, signed with
// HMAC-SHA256 by a key generated into the state dir at first start
// (patrol.key_file). Scanning it while logged in stores a presence mark
// for that user and room; signing needs a mark younger than
// patrol.presence (15 minutes by default). The signature records the
// mark's time, the client address and user agent, every verdict as shown,
// and the SHA-256 of the daily record it was signed against.
package patrol
