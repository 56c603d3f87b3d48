package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

func deviceNames(a *app) []string {
	var out []string
	for _, d := range a.sched.Devices() {
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}

// TestReloadAddsAndRemovesDevices rewrites the configuration of a running
// monitor and reloads it (what SIGHUP does): devices come and go, the
// spool and alarm state stay, and a broken file leaves the running
// configuration alone.
func TestReloadAddsAndRemovesDevices(t *testing.T) {
	inf := influxtest.Start(t)
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	sims, urls, err := startSimulators([]simDevice{
		{ID: "th1", Profile: set["modbus-th"]},
		{ID: "ups1", Profile: set["rfc1628-ups"]},
	}, "127.0.0.1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sims.Stop()
	dir := t.TempDir()
	th1 := `- {name: th1, profile: modbus-th, url: "` + urls["th1"] + `"}`
	ups1 := `- {name: ups1, profile: rfc1628-ups, url: "` + urls["ups1"] + `"}`
	path := writeConfig(t, dir, inf.URL(), th1)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	spool := a.spool
	if got := deviceNames(a); !slices.Equal(got, []string{"th1"}) {
		t.Fatalf("devices = %v", got)
	}

	writeConfig(t, dir, inf.URL(), th1+"\n"+ups1)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := deviceNames(a); !slices.Equal(got, []string{"th1", "ups1"}) {
		t.Fatalf("after adding ups1, devices = %v", got)
	}
	seen := func(dev string) bool {
		res, err := inf.Query(`SELECT count("reachable") FROM "roomwatch_poll" WHERE "device" = '` + dev + `' AND "reachable" = true`)
		return err == nil && len(res) > 0 && len(res[0].Series) > 0
	}
	testutil.Eventually(t, 20*time.Second, "ups1's samples in InfluxDB", func() (bool, string) { return seen("ups1"), "" })

	// A broken file is rejected and the running configuration stays.
	if err := os.WriteFile(path, []byte("sites:\n  - name: test\n    rooms: [{name: dc1, devices: [{name: x, profile: nope, url: sim}]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = a.Reload()
	if err == nil || !strings.Contains(err.Error(), `unknown profile "nope"`) {
		t.Fatalf("reload of a broken file: err = %v", err)
	}
	if got := deviceNames(a); !slices.Equal(got, []string{"th1", "ups1"}) {
		t.Fatalf("after a rejected reload, devices = %v", got)
	}

	writeConfig(t, dir, inf.URL(), ups1)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := deviceNames(a); !slices.Equal(got, []string{"ups1"}) {
		t.Fatalf("after removing th1, devices = %v", got)
	}
	// Self-monitoring: healthy, and the metrics a dashboard needs.
	testutil.Eventually(t, 10*time.Second, "/healthz 200", func() (bool, string) {
		resp, err := http.Get("http://" + a.Addr() + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	resp, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"roomwatch_polls_total{", "roomwatch_poll_duration_seconds_bucket{", "roomwatch_device_up{",
		"roomwatch_spool_messages ", "roomwatch_spool_oldest_age_seconds ", "roomwatch_influx_write_duration_seconds_bucket{",
		"roomwatch_spool_dropped_messages_total", "roomwatch_alarm_publish_latency_seconds_bucket{"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if strings.Contains(string(body), `device="th1"`) {
		t.Error("/metrics still reports the removed device th1")
	}
	if a.spool != spool {
		t.Error("reload replaced the spool")
	}
	if err := a.spool.Healthy(); err != nil {
		t.Errorf("spool after reloads: %v", err)
	}
}
