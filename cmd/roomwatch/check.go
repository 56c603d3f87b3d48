package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

// runCheck validates files and exits:
// `roomwatch check [--config FILE] [FILE...]`. Each file is checked as
// what it is: a configuration, a rules file (calendars: and rules:), a
// holiday file (years:, holidays:, workdays:) or a device profile
// (protocol: and values:).
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: roomwatch check [--config FILE] [FILE...]")
		fmt.Fprintln(stderr, "  checks a configuration, a rules file or a device profile, each as what it is")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{*path}
	}
	code := 0
	for _, f := range files {
		if err := checkFile(f, stdout); err != nil {
			code = report(stderr, "check", err)
		}
	}
	return code
}

// checkFile checks one file as a rules file, a profile or a
// configuration, and prints what it holds.
func checkFile(path string, stdout io.Writer) error {
	data, err := readConfigFile(path)
	if err != nil {
		return err
	}
	switch fileKind(data) {
	case "rules":
		rs, err := rules.Parse(path, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: OK: rules file, %d rules\n", path, len(rs))
		return nil
	case "holidays":
		h, err := rules.ParseHolidays(path, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: OK: holiday file, years %v\n", path, h.Years)
		return nil
	case "profile":
		p, err := profiles.Parse(path, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: OK: %s profile %s, %d values\n", path, p.Protocol, p.Name, len(p.Fields))
		return nil
	}
	c, err := parseConfig(path, data)
	if err != nil {
		return err
	}
	rooms, devices := 0, 0
	for _, s := range c.Sites {
		rooms += len(s.Rooms)
		for _, r := range s.Rooms {
			devices += len(r.Devices)
		}
	}
	fmt.Fprintf(stdout, "%s: OK: %d sites, %d rooms, %d devices, %d profiles, %d rules\n", path, len(c.Sites), rooms, devices, len(c.profiles), len(c.rules))
	for _, w := range append(c.warnings(time.Now()), exposureWarnings(c)...) {
		fmt.Fprintf(stdout, "%s: warning: %s\n", path, w)
	}
	printReservations(stdout, c)
	return nil
}

// fileKind tells a rules file ("rules"), a holiday file ("holidays") or a
// device profile ("profile") from a configuration ("config") by its
// top-level keys.
func fileKind(data []byte) string {
	var doc yaml.Node
	if len(data) > yamlconf.MaxFileSize || yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "config"
	}
	var keys []string
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		keys = append(keys, root.Content[i].Value)
	}
	switch {
	case len(keys) > 0 && !slices.ContainsFunc(keys, func(k string) bool { return k != "rules" && k != "calendars" }):
		return "rules"
	case slices.Contains(keys, "years") && !slices.ContainsFunc(keys, func(k string) bool { return k != "years" && k != "holidays" && k != "workdays" }):
		return "holidays"
	case slices.Contains(keys, "protocol") && slices.Contains(keys, "values"):
		return "profile"
	}
	return "config"
}

// printReservations notes what the streams of c reserve on an external
// NATS server, which sets a stream's max_bytes aside from the account's
// storage when the stream is created.
func printReservations(w io.Writer, c *Config) {
	if c.NATS.Embedded() {
		return
	}
	alarms := yamlconf.Size(int64(len(c.Sites)) * int64(c.Alerts.MaxBytes))
	spool, how := c.Influx.Spool.MaxBytes, "influx.spool.max_bytes"
	if spool == 0 {
		spool, how = influx.DefaultMaxBytes(c.loads(), influx.DefaultHold), "the default: 72 hours of these devices' samples"
	}
	fmt.Fprintf(w, "note: the external NATS server (nats.url) reserves each stream's max_bytes when it is created:\n")
	fmt.Fprintf(w, "  alarm streams %s_<site>: %d sites × %s (alerts.max_bytes) = %s\n", c.Alerts.StreamPrefix, len(c.Sites), c.Alerts.MaxBytes, alarms)
	fmt.Fprintf(w, "  spool %s: %s (%s)\n", c.Influx.Spool.Stream, spool, how)
	fmt.Fprintf(w, "  buckets %s and %s: unbounded, nothing reserved\n", c.Alerts.StateBucket, c.Alerts.DailyBucket)
	fmt.Fprintf(w, "  total: %s\n", alarms+spool)
}
