package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// runCheck validates a configuration file: `roomwatch check --config FILE`.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rooms, devices := 0, 0
	for _, s := range c.Sites {
		rooms += len(s.Rooms)
		for _, r := range s.Rooms {
			devices += len(r.Devices)
		}
	}
	fmt.Fprintf(stdout, "%s: OK: %d sites, %d rooms, %d devices, %d profiles\n", *path, len(c.Sites), rooms, devices, len(c.profiles))
	for _, w := range append(c.warnings(time.Now()), exposureWarnings(c)...) {
		fmt.Fprintf(stdout, "%s: warning: %s\n", *path, w)
	}
	return 0
}
