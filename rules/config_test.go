package rules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/bad")

// TestParseErrors: each testdata/bad/NAME.yaml must fail with exactly the
// error in NAME.err (file:line: field: message).
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := Parse(filepath.Base(f), data)
			if perr == nil {
				t.Fatal("parsed without error")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(perr.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := perr.Error() + "\n"; got != string(want) {
				t.Errorf("error\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	base := mustParse(t, `
rules:
  - {name: a, severity: major, condition: x > 1}
  - {name: b, severity: major, condition: x > 2}
`)
	over := mustParse(t, `
rules:
  - {name: a, disabled: true}
  - {name: b, severity: critical, condition: x > 3}
  - {name: c, severity: minor, condition: x > 4}
`)
	got := Merge(base, over)
	var names []string
	for _, r := range got {
		names = append(names, r.Name+":"+string(r.Severity))
	}
	if s := strings.Join(names, ","); s != "b:critical,c:minor" {
		t.Errorf("merged %s", s)
	}
	if _, err := NewEngine(got, Inventory{}, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// Whatever parses must compile and evaluate without panicking.
		e, err := NewEngine(rs, testInventory(), nil)
		if err != nil {
			t.Fatalf("parsed rules do not compile: %v", err)
		}
		e.Eval(t0, set(envDev, t0, T(30)...))
		e.Tick(t0.Add(48 * 60 * 60 * 1e9))
	})
}
