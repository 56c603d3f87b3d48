package main

import (
	"flag"
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

// TestDeployExamplesLoad keeps the shipped example configurations valid.
func TestDeployExamplesLoad(t *testing.T) {
	// The examples take their secrets from the environment.
	for _, v := range []string{"ROOMWATCH_INFLUX_TOKEN", "ROOMWATCH_UPS1_AUTHPASS", "ROOMWATCH_UPS1_PRIVPASS",
		"ROOMWATCH_NATS_PASSWORD", "ROOMWATCH_UPS_AUTHPASS", "ROOMWATCH_UPS_PRIVPASS", "ROOMWATCH_SNMP_COMMUNITY"} {
		t.Setenv(v, "example-secret")
	}
	files, _ := filepath.Glob("../../deploy/*.yaml")
	local, _ := filepath.Glob("../../deploy/local/*.yaml")
	files = append(files, local...)
	if len(files) == 0 {
		t.Fatal("no example configurations in deploy/")
	}
	for _, f := range files {
		if _, err := loadConfig(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

// FuzzConfig feeds arbitrary bytes to the loader: it must return a config
// or an error, never panic.
func FuzzConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig("fuzz.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
