package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const calendarConfig = `state_dir: /tmp/roomwatch-test
sites:
  - name: main
    rooms:
      - name: dc1
        devices:
          - name: di1
            profile: modbus-di
            url: modbus+tcp://10.0.0.5:502?unit=3
`

// writeFiles writes a configuration and the files beside it into a
// temporary folder and returns the configuration's path.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "roomwatch.yaml")
}

// `check` warns, on a fake clock, when the public holidays of the
// default working_hours calendar run out within 60 days; a holiday file
// (holidays_file) that gives the next year silences it and its days
// apply.
func TestHolidaysFileAndCoverageWarning(t *testing.T) {
	nov := time.Date(2026, 11, 15, 12, 0, 0, 0, shanghai)
	c, err := loadConfig(writeFiles(t, map[string]string{"roomwatch.yaml": calendarConfig}))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.warnings(nov); len(w) != 1 || !strings.Contains(w[0], "working_hours: no public holidays for 2027") {
		t.Fatalf("without a holiday file: %v", w)
	}
	if w := c.warnings(time.Date(2026, 6, 1, 0, 0, 0, 0, shanghai)); len(w) != 0 {
		t.Fatalf("June: %v", w)
	}

	c, err = loadConfig(writeFiles(t, map[string]string{
		"roomwatch.yaml":          calendarConfig + "holidays_file: calendars/holidays.yaml\n",
		"calendars/holidays.yaml": "years: [2027]\nholidays: [2027-02-05..2027-02-13]\nworkdays: [2027-02-14]\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.warnings(nov); len(w) != 0 {
		t.Fatalf("with 2027 in the file: %v", w)
	}
	if got := workingHours(c.rules)(time.Date(2027, 2, 8, 10, 0, 0, 0, shanghai)); got {
		t.Error("2027-02-08 (Spring Festival in the file) counted as working hours")
	}

	_, err = loadConfig(writeFiles(t, map[string]string{
		"roomwatch.yaml":          calendarConfig + "holidays_file: calendars/holidays.yaml\n",
		"calendars/holidays.yaml": "years: [2027]\nholidays: [2028-01-01]\n",
	}))
	if err == nil || !strings.Contains(err.Error(), `holidays.yaml:2: holidays[0]: "2028-01-01": 2028 is not in years [2027]`) {
		t.Fatalf("bad holiday file: %v", err)
	}
}
