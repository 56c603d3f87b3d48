package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors/profiles"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/config")

// TestConfigGolden checks every testdata/config/*.yaml with `roomwatch
// check`: a file with a .err beside it must fail with exactly that output
// (PROFILES stands for the built-in profile list); one without must pass.
// `go test -run TestConfigGolden -update` rewrites the .err files.
func TestConfigGolden(t *testing.T) {
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(set.Names(), " ")
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files) < 10 {
		t.Fatalf("found %d golden configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run([]string{"check", "--config", f}, &stdout, &stderr)
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			got := strings.ReplaceAll(stderr.String(), names, "PROFILES")
			if *update && code != 0 {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, werr := os.ReadFile(golden)
			if werr != nil {
				if code != 0 {
					t.Fatalf("want success, got:\n%s", stderr.String())
				}
				return
			}
			if code != 1 {
				t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
			}
			if got != string(want) {
				t.Errorf("error mismatch\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestDeployFilesPassCheck: every YAML file shipped under deploy/ (the
// example configurations, rules files and any profile) passes
// `roomwatch check`, each checked as what it is.
func TestDeployFilesPassCheck(t *testing.T) {
	// The examples take their secrets from the environment.
	for _, v := range []string{"ROOMWATCH_INFLUX_TOKEN", "ROOMWATCH_UPS1_AUTHPASS", "ROOMWATCH_UPS1_PRIVPASS",
		"ROOMWATCH_NATS_PASSWORD", "ROOMWATCH_UPS_AUTHPASS", "ROOMWATCH_UPS_PRIVPASS", "ROOMWATCH_SNMP_COMMUNITY"} {
		t.Setenv(v, "example-secret")
	}
	var files []string
	err := filepath.WalkDir("../../deploy", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "grafana" {
			return fs.SkipDir // Grafana's own provisioning format, tested in deploy/grafana
		}
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) < 4 {
		t.Fatalf("found %d YAML files in deploy/: %v", len(files), err)
	}
	for _, f := range files {
		var stdout, stderr strings.Builder
		if code := run([]string{"check", f}, &stdout, &stderr); code != 0 {
			t.Errorf("roomwatch check %s: exit %d\n%s", f, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), ": OK: ") {
			t.Errorf("roomwatch check %s printed %q", f, stdout.String())
		}
	}
}

// TestCheckNotesReservations: with an external NATS server, check says
// what the streams reserve.
func TestCheckNotesReservations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "roomwatch.yaml")
	cfg := "nats: {url: nats://10.0.0.1:4222}\nalerts: {max_bytes: 512MiB}\ninflux: {spool: {max_bytes: 2GiB}}\n" +
		"sites:\n  - name: a\n  - name: b\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"check", "--config", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"2 sites × 512.0MiB (alerts.max_bytes) = 1.0GiB", "2.0GiB (influx.spool.max_bytes)", "total: 3.0GiB"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestCLIHelpVersionProbe: --help exits 0, version prints one, and probe
// without --profile says what to give.
func TestCLIHelpVersionProbe(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		out, errst string
	}{
		{[]string{"--help"}, 0, "commands:", ""},
		{[]string{"check", "--help"}, 0, "", "usage: roomwatch check"},
		{[]string{"version"}, 0, "roomwatch ", ""},
		{[]string{"--version"}, 0, "roomwatch ", ""},
		{[]string{}, 2, "", "usage:"},
		{[]string{"chek"}, 2, "", `unknown command "chek"`},
		{[]string{"probe", "modbus+tcp://127.0.0.1:1"}, 1, "", "roomwatch probe: --profile is required: one of "},
		{[]string{"probe", "modbus+tcp://127.0.0.1:1", "--profile", "modbus-hh"}, 1, "", `roomwatch probe: --profile "modbus-hh": no such profile (did you mean "modbus-th"?`},
	} {
		var stdout, stderr strings.Builder
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.errst) {
			t.Errorf("roomwatch %v: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", c.args, code, stdout.String(), stderr.String(), c.code, c.out, c.errst)
		}
	}
}

// pathological are configurations that once could keep a check or a
// reload busy for a very long time: each must now fail at once.
var pathological = map[string]string{
	// 10 levels of 10 aliases: 10^10 values once expanded.
	"alias bomb": aliasBomb("sites"),
	// Files that never end, or block, named where a file is read.
	"rule file /dev/zero":   "rule_files: [/dev/zero]\nsites: [{name: a}]\n",
	"secret file /dev/zero": "influx: {token: {file: /dev/zero}}\nsites: [{name: a}]\n",
	"profiles_dir /dev":     "profiles_dir: /dev/zero\nsites: [{name: a}]\n",
	"config too large":      "sites: [{name: a}]\n#" + strings.Repeat("x", 1<<20),
}

func aliasBomb(key string) string {
	var b strings.Builder
	b.WriteString(key + ":\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  - &a%d [%s]\n", i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9)+fmt.Sprintf("*a%d", i-1))
	}
	return b.String()
}

// TestLoaderBounded: every pathological input is refused with an error
// naming the file, without expanding or reading without end.
func TestLoaderBounded(t *testing.T) {
	for name, doc := range pathological {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig("x.yaml", []byte(doc))
			if err == nil || !strings.HasPrefix(err.Error(), "x.yaml") {
				t.Errorf("got %v", err)
			}
		})
	}
}

// TestMissingConfigSaysWhatToDo: a missing file names the path tried and
// --config.
func TestMissingConfigSaysWhatToDo(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"check", "--config", "no-such.yaml"}, &stdout, &stderr); code != 1 {
		t.Errorf("exit code %d", code)
	}
	abs, _ := filepath.Abs("no-such.yaml")
	for _, want := range []string{"roomwatch check: no-such.yaml: no such configuration file", abs, "--config FILE"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// FuzzConfig feeds arbitrary bytes to the loader: it must return a config
// or an error, never panic, and never run for long (the pathological
// inputs are seeds).
func FuzzConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	for _, doc := range pathological {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig("fuzz.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
