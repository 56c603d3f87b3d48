package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at build time with
// -ldflags "-X main.version=v1.2.3"; without it, the module version and
// VCS revision recorded in the binary are used.
var version = ""

// runVersion prints the version: `roomwatch version`.
func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "roomwatch", versionString())
	return 0
}

// versionString is the version, commit and Go version of this binary,
// such as "v1.2.3 (commit 5ea38c2, 2026-12-01T20:00:00Z, go1.26.8)".
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	v := version
	if v == "" && ok && info.Main.Version != "" {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	if !ok {
		return v
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	detail := info.GoVersion
	if rev != "" {
		if len(rev) > 7 {
			rev = rev[:7]
		}
		detail = fmt.Sprintf("commit %s%s, %s, %s", rev, dirty, at, info.GoVersion)
	}
	return fmt.Sprintf("%s (%s)", v, detail)
}
