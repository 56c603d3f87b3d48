package yamlconf

import (
	"fmt"
	"strings"
	"testing"
	"time"
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
	want := "r.yaml:2: sites[0].name: bad\nr.yaml:9: sites[0].rooms[0].devices[1].timeout: must be at most 1s"
	if got := errs.Err().Error(); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestDecodeProblems(t *testing.T) {
	type dev struct {
		Name     string        `yaml:"name"`
		Address  string        `yaml:"address"`
		Interval time.Duration `yaml:"interval"`
		Retries  int           `yaml:"retries"`
		Port     uint16        `yaml:"port"`
		On       bool          `yaml:"on"`
		Pass     Secret        `yaml:"pass"`
		Max      Size          `yaml:"max"`
	}
	type conf struct {
		Devices []dev             `yaml:"devices"`
		Labels  map[string]string `yaml:"labels"`
	}
	t.Setenv("YAMLCONF_TEST_SET", "x")
	for _, c := range []struct{ name, doc, want string }{
		{"unknown field", "devices:\n  - name: a\n    adress: x\n",
			`r.yaml:3: devices[0]: unknown field "adress" (did you mean "address"?)`},
		{"unknown far from any", "devices: []\ncalendars: {}\n",
			`r.yaml:2: unknown field "calendars"`},
		{"int duration", "devices:\n  - interval: 5\n",
			`r.yaml:2: devices[0].interval: "5" is not a duration (write 30s, 5m, 1h30m)`},
		{"port range", "devices:\n  - port: 70000\n",
			`r.yaml:2: devices[0].port: 70000: want a whole number from 0 to 65535`},
		{"kinds", "devices: {a: 1}\nlabels: [x]\n",
			"r.yaml:1: devices: want a list (- item, or [a, b]), not a mapping (key: value)\n" +
				"r.yaml:2: labels: want a mapping (key: value), not a list"},
		{"every unset secret, sorted by line", "devices:\n  - pass: {env: YAMLCONF_TEST_UNSET2}\n    on: maybe\n  - pass: {env: YAMLCONF_TEST_SET}\n  - pass: {env: YAMLCONF_TEST_UNSET1}\n",
			"r.yaml:2: devices[0].pass: environment variable YAMLCONF_TEST_UNSET2 is not set (set it in the service's environment, or give the secret as {file: PATH})\n" +
				"r.yaml:3: devices[0].on: \"maybe\" is not true or false\n" +
				"r.yaml:5: devices[2].pass: environment variable YAMLCONF_TEST_UNSET1 is not set (set it in the service's environment, or give the secret as {file: PATH})"},
		{"size", "devices:\n  - max: lots\n",
			`r.yaml:2: devices[0].max: "lots" is not a size (write 64MiB, 1GiB, 500MB or a number of bytes)`},
		{"twice", "devices: []\ndevices: []\n",
			`r.yaml:2: devices: given twice (also on line 1)`},
		{"syntax", "devices: [\n",
			`r.yaml:1: did not find expected node content`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out conf
			_, err := Decode("r.yaml", []byte(c.doc), &out)
			if err == nil || err.Error() != c.want {
				t.Errorf("got:\n%v\nwant:\n%s", err, c.want)
			}
		})
	}
	if (&Errors{}).Err() != nil {
		t.Error("no problems must be a nil error")
	}
}

func TestDecodeMergeKeysAndAliases(t *testing.T) {
	type dev struct {
		Name     string        `yaml:"name"`
		Interval time.Duration `yaml:"interval"`
	}
	var out struct {
		Base    dev   `yaml:"base"`
		Devices []dev `yaml:"devices"`
	}
	doc := "base: &b {interval: 10s}\ndevices:\n  - <<: *b\n    name: a\n  - *b\n"
	if _, err := Decode("r.yaml", []byte(doc), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Devices) != 2 || out.Devices[0].Name != "a" || out.Devices[0].Interval != 10*time.Second {
		t.Errorf("decoded %+v", out)
	}
}

// TestDecodeBounded: a document whose aliases expand to billions of
// values, or one larger than MaxFileSize, is refused quickly.
func TestDecodeBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	var out map[string][]any
	_, err := Decode("bomb.yaml", []byte(b.String()), &out)
	if err == nil || !strings.Contains(err.Error(), "more than 100000 values once its aliases") {
		t.Errorf("alias bomb: %v", err)
	}
	_, err = Decode("big.yaml", make([]byte, MaxFileSize+1), &out)
	if err == nil || err.Error() != "big.yaml: the file is 1.0MiB; a configuration file is at most 1.0MiB" {
		t.Errorf("big file: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := map[string]int{"address": 0, "interval": 0, "timeout": 0, "name": 0}
	for in, want := range map[string]string{"adress": "address", "intreval": "interval", "timout": "timeout", "nmae": "name", "colour": "", "x": ""} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"1024": 1024, "64MiB": 64 << 20, "1GiB": 1 << 30, "500MB": 500e6,
		"1.5 GiB": 3 << 29, "20GB": 20e9, "8K": 8192, "64mib": 64 << 20, "0": 0} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"lots", "-1MiB", "1e30GiB", "NaN", "0x10", "MiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	if s := Size(64 << 20).String(); s != "64.0MiB" {
		t.Errorf("String = %s", s)
	}
}
