package main

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// activeAlarms returns the active alarms of the state bucket, as
// `roomwatch alarms` lists them.
func activeAlarms(t *testing.T, a *app) []*alerts.Alarm {
	t.Helper()
	nc, err := connectRole(a.cfg.NATS, a.srv, roleScreen, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, alerts.DefaultConfig().StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	list, err := alerts.List(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	return alerts.ActiveOnly(list)
}

// An alarm of a device removed from the configuration while it fired is
// resolved at the next start, and `roomwatch alarms` lists it no more.
func TestRemovedDeviceAlarmResolvesAtStart(t *testing.T) {
	inf := influxtest.Start(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, inf.URL(), upsDevice)
	sims, urls := newSims(t, path)
	defer sims.Stop()
	if err := sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	a := startTestApp(t, path, sims, urls)
	testutil.Eventually(t, 15*time.Second, "ups-on-battery firing", func() (bool, string) {
		return count(alarmLog(t, a), "ups-on-battery", alerts.Firing) == 1, ""
	})
	testutil.Eventually(t, 15*time.Second, "the firing alarm listed", func() (bool, string) { return len(activeAlarms(t, a)) == 1, "" })
	a.Stop()

	// ups1 is taken out of the configuration; ups2 is new.
	path = writeConfig(t, dir, inf.URL(), `- {name: ups2, title: UPS2, profile: rfc1628-ups, url: sim}`)
	sims2, urls2 := newSims(t, path)
	defer sims2.Stop()
	b := startTestApp(t, path, sims2, urls2)
	defer b.Stop()
	testutil.Eventually(t, 15*time.Second, "ups1's alarm resolved", func() (bool, string) {
		for _, x := range alarmLog(t, b) {
			if x.Rule == "ups-on-battery" && x.State == alerts.Resolved && x.Device == "ups1" {
				return true, ""
			}
		}
		return false, ""
	})
	testutil.Eventually(t, 15*time.Second, "ups1's alarm no longer listed", func() (bool, string) {
		for _, x := range activeAlarms(t, b) {
			if x.Device == "ups1" {
				return false, ""
			}
		}
		return true, ""
	})
}

// An alarm of a site no longer configured is resolved at the next start
// (in the old site's stream) and listed no more.
func TestRemovedSiteAlarmResolvesAtStart(t *testing.T) {
	inf := influxtest.Start(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, inf.URL(), upsDevice)
	sims, urls := newSims(t, path)
	defer sims.Stop()
	if err := sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	a := startTestApp(t, path, sims, urls)
	testutil.Eventually(t, 15*time.Second, "the firing alarm listed", func() (bool, string) { return len(activeAlarms(t, a)) == 1, "" })
	// Its stream is gone too (an operator removed it with the site): the
	// resolution must still be recorded, not wait for a stream forever.
	deleteAlarmStream(t, a, "test")
	a.Stop()

	// The site "test" becomes "annex".
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(data), "  - name: test\n", "  - name: annex\n", 1)
	if renamed == string(data) {
		t.Fatal("site not renamed")
	}
	if err := os.WriteFile(path, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	sims2, urls2 := newSims(t, path)
	defer sims2.Stop()
	b := startTestApp(t, path, sims2, urls2)
	defer b.Stop()
	testutil.Eventually(t, 15*time.Second, "the old site's alarm resolved", func() (bool, string) {
		return count(alarmLog(t, b), "ups-on-battery", alerts.Resolved) == 1, ""
	})
	testutil.Eventually(t, 15*time.Second, "the old site's alarm no longer listed", func() (bool, string) {
		for _, x := range activeAlarms(t, b) {
			if x.Site == "test" {
				return false, ""
			}
		}
		return true, ""
	})
}

// deleteAlarmStream deletes the alarm stream of site.
func deleteAlarmStream(t *testing.T, a *app, site string) {
	t.Helper()
	_, js := roleJS(t, a.cfg.NATS, a.srv, roleMonitor)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, alerts.DefaultConfig().StreamConfig(site).Name); err != nil {
		t.Fatal(err)
	}
}
