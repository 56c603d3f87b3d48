package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/daily"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// TestAckEndToEnd: the mains fail, `roomwatch ack` acknowledges the alarm;
// the monitor applies it (state bucket, an acknowledged message on the
// alarm's subject, the day's record says who, when, how), `roomwatch
// alarms` shows it; the notifier's delivery records, whose stream appears
// only after the monitor started, show in the day's record who was told.
func TestAckEndToEnd(t *testing.T) {
	inf := influxtest.Start(t)
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	url := a.srv.ClientURL()
	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	var fired *alerts.Alarm
	testutil.Eventually(t, 15*time.Second, "ups-on-battery firing", func() (bool, string) {
		for _, x := range alarmLog(t, a) {
			if x.Rule == "ups-on-battery" && x.State == alerts.Firing {
				fired = x
			}
		}
		return fired != nil, ""
	})

	// The CLI reads the NATS address from the configuration.
	cli := cliConfig(t, path, url)
	var out, errb bytes.Buffer
	if code := run([]string{"ack", fired.ID, "--config", cli, "--by", "张三", "--comment", "已到机房，市电检修中"}, &out, &errb); code != 0 {
		t.Fatalf("roomwatch ack: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "已确认") || !strings.Contains(out.String(), "张三") {
		t.Errorf("ack output: %s", out.String())
	}
	var acked *alerts.Alarm
	testutil.Eventually(t, 10*time.Second, "the acknowledged message", func() (bool, string) {
		for _, x := range alarmLog(t, a) {
			if x.ID == fired.ID && x.State == alerts.Acknowledged {
				acked = x
			}
		}
		return acked != nil, ""
	})
	if acked.AckBy != "张三" || acked.AckVia != alerts.AckViaCLI || acked.AckNote != "已到机房，市电检修中" || acked.AckAt == nil {
		t.Errorf("acknowledged message: by %q via %q note %q at %v", acked.AckBy, acked.AckVia, acked.AckNote, acked.AckAt)
	}
	// A second acknowledgement changes nothing.
	out.Reset()
	if code := run([]string{"ack", "--config", cli, "--by", "李四", fired.ID}, &out, &errb); code != 0 || !strings.Contains(out.String(), "张三") {
		t.Errorf("second ack: exit %d: %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"alarms", "--config", cli}, &out, &errb); code != 0 || !strings.Contains(out.String(), "张三") || !strings.Contains(out.String(), fired.ID) {
		t.Errorf("roomwatch alarms: exit %d:\n%s%s", code, out.String(), errb.String())
	}
	entry := func() (daily.AlarmEntry, bool) {
		rec, ok := a.alarms.daily.Snapshot("test", "dc1", a.alarms.daily.Date(fired.StartedAt))
		if !ok {
			return daily.AlarmEntry{}, false
		}
		for _, e := range rec.Alarms {
			if e.ID == fired.ID {
				return e, true
			}
		}
		return daily.AlarmEntry{}, false
	}
	testutil.Eventually(t, 10*time.Second, "the acknowledgement in the day's record", func() (bool, string) {
		e, ok := entry()
		return ok && e.AckBy == "张三" && e.AckVia == alerts.AckViaCLI && e.AckNote != "" && e.AckAt != nil, ""
	})

	// The notifier appears: it creates its stream and records a delivery.
	nc, err := connectRole(a.cfg.NATS, a.srv, roleNotifier, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: alerts.DeliveryStream, Subjects: []string{alerts.DeliverySubjectPrefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	d := alerts.Delivery{Schema: alerts.DeliverySchema, ID: "n-1", AlarmIDs: []string{fired.ID}, Site: "test", Room: "dc1",
		Kind: "firing", Person: "王五", Address: "13800000000", Channel: "sms-modem", Result: alerts.DeliverySent, Attempt: 1, At: time.Now()}
	data, _ := json.Marshal(d)
	if _, err := js.Publish(ctx, alerts.DeliverySubject("test", "dc1"), data); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*alerts.HeartbeatInterval+5*time.Second, "the delivery in the day's record", func() (bool, string) {
		e, ok := entry()
		return ok && len(e.Told) == 1 && e.Told[0].Person == "王五" && e.Told[0].Channel == "sms-modem" && e.Told[0].Result == alerts.DeliverySent, ""
	})
}

// cliConfig writes a copy of the configuration at path that names the
// running embedded server's address (natsURL) instead of port 0.
func cliConfig(t *testing.T, path, natsURL string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `nats: {listen: "127.0.0.1:0"`, `nats: {listen: "`+strings.TrimPrefix(natsURL, "nats://")+`"`, 1)
	if s == string(data) {
		t.Fatal("no nats listen address to replace")
	}
	out := filepath.Join(t.TempDir(), "roomwatch.yaml")
	if err := os.WriteFile(out, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}
