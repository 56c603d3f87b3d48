package daily

import (
	"strings"
	"testing"

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
