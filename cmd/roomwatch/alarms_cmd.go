package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	rwc "github.com/roomwatch/roomwatch/collectors"
)

// runAlarms lists alarms from the state bucket of the running monitor's
// NATS server: `roomwatch alarms --config FILE [--all] [--json] [--lang en]`.
func runAlarms(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alarms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "roomwatch.yaml", "configuration file")
	all := fs.Bool("all", false, "include resolved alarms")
	asJSON := fs.Bool("json", false, "print a JSON array of alarm messages")
	lang := fs.String("lang", "zh", "language of the table: zh or en")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *lang != "zh" && *lang != "en" {
		fmt.Fprintf(stderr, "roomwatch alarms: --lang %q: want zh or en\n", *lang)
		return 2
	}
	fail := func(err error) int { return report(stderr, "alarms", err) }
	cfg, err := loadConfig(*path)
	if err != nil {
		return fail(err)
	}
	nc, js, err := dialJetStream(cfg.NATS)
	if err != nil {
		return fail(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, cfg.Alerts.StateBucket)
	if err != nil {
		return fail(fmt.Errorf("alarm state bucket %s: %w (has the monitor run?)", cfg.Alerts.StateBucket, err))
	}
	list, err := alerts.List(ctx, kv)
	if err != nil {
		return fail(err)
	}
	if !*all {
		list = alerts.ActiveOnly(list)
	}
	withTitles(list, cfg)
	if *asJSON {
		err = alerts.WriteJSON(stdout, list)
	} else {
		loc := shanghai
		if len(cfg.Sites) > 0 {
			if l, lerr := time.LoadLocation(cfg.Sites[0].TimeZone); lerr == nil {
				loc = l
			}
		}
		err = alerts.PrintTable(stdout, alerts.In(list, loc), *lang)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// withTitles gives the alarms stored without display names (by a monitor
// from before they were carried) the titles of the configuration: site,
// room and device, and their values' names from the profiles.
func withTitles(list []*alerts.Alarm, cfg *Config) {
	inv := cfg.inventory()
	for _, a := range list {
		for _, s := range inv.Sites {
			if s.Name != a.Site {
				continue
			}
			fill(&a.SiteTitle, s.Title)
			for _, r := range s.Rooms {
				if r.Name != a.Room {
					continue
				}
				fill(&a.RoomTitle, r.Title)
				for _, d := range r.Devices {
					if d.Device.Name == a.Device && a.Device != "" {
						fill(&a.DeviceTitle, d.Title)
					}
				}
			}
		}
		for name, r := range a.Values {
			if r.Title.IsZero() {
				r.Title = cfg.profiles.ValueTitle(a.Profile, name)
				a.Values[name] = r
			}
		}
	}
}

// fill sets an empty title from a title by language.
func fill(t *rwc.Title, by map[string]string) {
	if t.IsZero() {
		*t = rwc.Title{Zh: by["zh"], En: by["en"]}
	}
}
