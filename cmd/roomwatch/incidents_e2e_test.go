package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts/incident"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

const incidentsSection = `incidents:
  classes:
    - name: mains-lost
      title: {zh: 市电中断, en: mains lost}
      match: {rules: [ups-on-battery]}
      operator: cii
      responsible: 信息科值班长`

// TestMainsLostOpensIncident runs the monitor with an incidents section
// on the simulated UPS: cutting the mains opens an incident with its 1 h
// and 24 h deadlines, restoring them resolves it.
func TestMainsLostOpensIncident(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice, incidentsSection)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()

	_, js := roleJS(t, a.cfg.NATS, a.srv, roleScreen)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "roomwatch_incidents")
	if err != nil {
		t.Fatal(err)
	}
	store := incident.NewStore(js, kv, nil, a.cfg.Incidents)

	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	var in *incident.Incident
	testutil.Eventually(t, 15*time.Second, "an incident opened", func() (bool, string) {
		all, err := store.List(ctx, "test")
		if err != nil || len(all) == 0 {
			return false, fmt.Sprint(err)
		}
		in = all[0]
		return true, ""
	})
	if in.Class != "mains-lost" || in.Room != "dc1" || in.RoomTitle["zh"] != "一号机房" {
		t.Errorf("incident %+v", in)
	}
	if d := in.Deadline(incident.National); d == nil || !d.Due.Equal(in.OpenedAt.Add(time.Hour)) {
		t.Errorf("national deadline %+v, want 1 h after %v", d, in.OpenedAt)
	}
	if d := in.Deadline(incident.Hospital); d == nil || !d.Due.Equal(in.OpenedAt.Add(24*time.Hour)) {
		t.Errorf("hospital deadline %+v, want 24 h after %v", d, in.OpenedAt)
	}

	if err := a.sims.Store.Apply("mains-restore"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the incident resolved", func() (bool, string) {
		got, err := store.Get(ctx, "test", in.ID)
		return err == nil && got.ResolvedAt != nil, fmt.Sprint(err)
	})
}
