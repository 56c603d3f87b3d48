package patrol

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
)

// RuleUnsigned is the rule name of the unsigned-patrol alarm.
const RuleUnsigned = "patrol-unsigned"

// checkInterval is how often unsigned patrols and incidents are checked.
const checkInterval = 30 * time.Second

// watchdog raises the unsigned-patrol alarms and opens incidents, every
// checkInterval until ctx ends.
func (s *Server) watchdog(ctx context.Context) {
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for {
		if err := s.check(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("patrol check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check runs one round: unsigned patrols, then incidents. Rounds do not
// overlap.
func (s *Server) check(ctx context.Context) error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, checkInterval)
	defer cancel()
	kv, err := s.src.bucket(ctx, s.src.stateB, &s.src.state)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil // the monitor has not run yet
	}
	if err != nil {
		return err
	}
	if s.pub == nil {
		s.pub = alerts.NewPublisher(s.js, kv, alerts.PublisherOptions{Now: s.now}, s.log)
	}
	return errors.Join(s.checkUnsigned(ctx, kv, s.pub), s.checkIncidents(ctx))
}

// unsignedFingerprint identifies a room's unsigned-patrol alarm.
func unsignedFingerprint(site, room string) string {
	h := sha256.Sum256([]byte(RuleUnsigned + "\x00" + site + "\x00" + room))
	return hex.EncodeToString(h[:8])
}

// checkUnsigned fires a room's unsigned-patrol alarm once its deadline
// passed without a signature, and resolves it once the day is signed (or
// the day is over).
func (s *Server) checkUnsigned(ctx context.Context, kv jetstream.KeyValue, pub *alerts.Publisher) error {
	now := s.now()
	var errs []error
	for i := range s.rooms {
		room := &s.rooms[i]
		local := now.In(room.Loc)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, room.Loc)
		date := day.Format(time.DateOnly)
		fp := unsignedFingerprint(room.Site, room.Name)
		var cur *alerts.Alarm
		if e, err := kv.Get(ctx, alerts.StateKey(room.Site, fp)); err == nil {
			cur, _ = alerts.Unmarshal(e.Value())
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			errs = append(errs, err)
			continue
		}
		revs, err := s.store.Signoffs(ctx, room.Site, room.Name, date)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// An alarm of an earlier day, or of a day now signed, resolves.
		if cur != nil && cur.Active() && (cur.StartedAt.Before(day) || len(revs) > 0) {
			cur.Resolve(now)
			if _, err := pub.Publish(ctx, cur); err != nil {
				errs = append(errs, fmt.Errorf("unsigned patrol %s/%s: resolve: %w", room.Site, room.Name, err))
			}
			continue
		}
		mins, expected := s.cfg.signBy(room.Name, s.workday(day.Add(12*time.Hour)))
		deadline := day.Add(time.Duration(mins) * time.Minute)
		if !expected || len(revs) > 0 || now.Before(deadline) || (cur != nil && cur.Active()) {
			continue
		}
		if cur != nil && !cur.StartedAt.Before(deadline) {
			continue // fired for today and already resolved
		}
		hm := deadline.Format("15:04")
		a := &alerts.Alarm{
			Fingerprint: fp, ID: alerts.OccurrenceID(fp, deadline), Rule: RuleUnsigned,
			Severity: alerts.Severity(s.cfg.UnsignedSeverity), State: alerts.Firing,
			Site: room.Site, Room: room.Name, Class: "patrol",
			Labels:   map[string]string{"site": room.Site, "room": room.Name, "rule": RuleUnsigned},
			ActiveAt: deadline, StartedAt: deadline, UpdatedAt: now,
			Text: map[string]string{
				"zh": fmt.Sprintf("%s 今日巡检未在 %s 前签名", room.Label(LangZH), hm),
				"en": fmt.Sprintf("%s: today's patrol not signed by %s", room.Label(LangEN), hm),
			},
		}
		if _, err := pub.Publish(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("unsigned patrol %s/%s: %w", room.Site, room.Name, err))
			continue
		}
		s.log.Info("patrol not signed in time: alarm raised", "site", room.Site, "room", room.Name, "deadline", hm)
	}
	return errors.Join(errs...)
}

// workday reports whether t's day is a working day of the rules'
// calendar (asked at noon).
func (s *Server) workday(noon time.Time) bool {
	if s.working == nil {
		wd := noon.Weekday()
		return wd != time.Saturday && wd != time.Sunday
	}
	return s.working(noon)
}
