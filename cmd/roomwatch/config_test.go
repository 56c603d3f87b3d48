package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// TestConfigGolden loads every testdata/config/*.yaml: a file with a .err
// beside it must fail with exactly that text (PROFILES stands for the
// built-in profile list); one without must load.
func TestConfigGolden(t *testing.T) {
	set, err := profiles.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files) < 4 {
		t.Fatalf("found %d golden configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseConfig(filepath.Base(f), data)
			want, werr := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if werr != nil {
				if err != nil {
					t.Fatalf("want success, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error:\n%s", want)
			}
			w := strings.ReplaceAll(strings.TrimSpace(string(want)), "PROFILES", strings.Join(set.Names(), " "))
			if got := err.Error(); got != w {
				t.Errorf("error mismatch\ngot:\n%s\nwant:\n%s", got, w)
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
