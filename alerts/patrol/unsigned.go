package patrol

import (
	"context"
	"fmt"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/unsigned"
	"github.com/roomwatch/roomwatch/rules"
)

// startUnsigned starts the unsigned-patrol checker (alerts/unsigned) on
// the signatures of this screen: it raises patrol-unsigned on the site's
// alarm stream and state bucket, like any alarm, and resolves it when the
// day is signed.
func (s *Server) startUnsigned(ctx context.Context) error {
	state, err := s.js.CreateOrUpdateKeyValue(ctx, s.alerts.StateBucketConfig())
	if err != nil {
		return fmt.Errorf("alarm state bucket %s: %w", s.alerts.StateBucket, err)
	}
	pub := alerts.NewPublisher(s.js, state, alerts.PublisherOptions{Now: s.now}, s.log)
	c, err := unsigned.New(s.cfg.Unsigned, s.working, s.store.Signed, pub, state, unsigned.Options{Inventory: s.inventory(), Now: s.now}, s.log)
	if err != nil {
		return err
	}
	c.Start(context.Background())
	s.unsigned = c
	return nil
}

// inventory is the rooms as the rules see them (titles for alarm texts).
func (s *Server) inventory() rules.Inventory {
	var inv rules.Inventory
	for _, r := range s.rooms {
		i := len(inv.Sites) - 1
		if i < 0 || inv.Sites[i].Name != r.Site {
			inv.Sites = append(inv.Sites, rules.Site{Name: r.Site})
			i++
		}
		inv.Sites[i].Rooms = append(inv.Sites[i].Rooms, rules.Room{Name: r.Name, CarryTime: r.CarryTime,
			Title: map[string]string{"zh": r.Label(LangZH), "en": r.Label(LangEN)}})
	}
	return inv
}
