package daily

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// The time zone is spelled `timezone`, as everywhere else in the
// configuration; `time_zone` is refused, not ignored.
func TestConfigTimezoneKey(t *testing.T) {
	var c Config
	if _, err := yamlconf.Decode("roomwatch.yaml", []byte("timezone: Asia/Urumqi\n"), &c); err != nil || c.TimeZone != "Asia/Urumqi" {
		t.Fatalf("timezone: %v, %q", err, c.TimeZone)
	}
	_, err := yamlconf.Decode("roomwatch.yaml", []byte("time_zone: Asia/Urumqi\n"), &Config{})
	if err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("time_zone accepted: %v", err)
	}
}

// stats_interval defaults to 5m (or the flush interval, if longer) and
// must not be shorter than flush_interval.
func TestConfigStatsInterval(t *testing.T) {
	for _, tc := range []struct {
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{"{}", 5 * time.Minute, ""},
		{"flush_interval: 10m", 10 * time.Minute, ""},
		{"stats_interval: 2m", 2 * time.Minute, ""},
		{"stats_interval: 30s", 30 * time.Second, ""},
		{"stats_interval: 10s", 0, "daily.stats_interval: 10s: must be at least flush_interval (30s)"},
		{"flush_interval: 1m\nstats_interval: 30s", 0, "daily.stats_interval: 30s: must be at least flush_interval (1m0s)"},
	} {
		var c Config
		if _, err := yamlconf.Decode("roomwatch.yaml", []byte(tc.yaml), &c); err != nil {
			t.Fatal(err)
		}
		c.Defaults()
		var errs yamlconf.Errors
		c.Validate(&errs, "daily")
		err := errs.Err()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case c.StatsInterval != tc.want:
			t.Errorf("%q: stats interval %v, want %v", tc.yaml, c.StatsInterval, tc.want)
		}
	}
}
