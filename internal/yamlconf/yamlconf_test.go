package yamlconf

import (
	"strings"
	"testing"
)

const doc = `sites:
  - name: main
    rooms:
      - name: dc1
        devices:
          - name: ups1
            interval: 10s
          - name: th1
            timeout: 3s
`

type cfg struct {
	Sites []struct {
		Name  string `yaml:"name"`
		Rooms []struct {
			Name    string `yaml:"name"`
			Devices []struct {
				Name     string `yaml:"name"`
				Interval string `yaml:"interval"`
				Timeout  string `yaml:"timeout"`
			} `yaml:"devices"`
		} `yaml:"rooms"`
	} `yaml:"sites"`
}

func TestLineOfPath(t *testing.T) {
	var c cfg
	f, err := Decode("r.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"sites[0].name":                         2,
		"sites[0].rooms[0].devices[0].interval": 7,
		"sites[0].rooms[0].devices[1].timeout":  9,
		"sites[0].rooms[0].devices[1].retries":  8, // missing: its parent
		"sites[0].rooms[0].devices[5].name":     6, // out of range: the list, at its first item
		"":                                      1,
	} {
		if got := f.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
	errs := Errors{File: f}
	errs.Addf("sites[0].rooms[0].devices[1].timeout", "must be at most %s", "1s")
	errs.Addf("sites[0].name", "bad")
	want := "r.yaml:9: sites[0].rooms[0].devices[1].timeout: must be at most 1s\nr.yaml:2: sites[0].name: bad"
	if got := errs.Err().Error(); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestDecodeRejectsUnknownKeysAndSyntax(t *testing.T) {
	var c cfg
	_, err := Decode("r.yaml", []byte("sites:\n  - name: main\n    room: []\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "r.yaml: line 3: field room not found") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = Decode("r.yaml", []byte("sites: [\n"), &c)
	if err == nil || !strings.HasPrefix(err.Error(), "r.yaml: ") {
		t.Errorf("syntax error: %v", err)
	}
	if (&Errors{}).Err() != nil {
		t.Error("no problems must be a nil error")
	}
}
