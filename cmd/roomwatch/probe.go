package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/snmp"
	"github.com/roomwatch/roomwatch/internal/termtable"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// probeJSON is the --json form of a probe: one object.
type probeJSON struct {
	Device  string `json:"device"`
	Profile string `json:"profile"`
	Time    string `json:"time"`
	Error   string `json:"error,omitempty"`
	// Detected is what `--profile auto` found.
	Detected *snmp.Identity   `json:"detected,omitempty"`
	Values   []probeJSONValue `json:"values"`
}

type probeJSONValue struct {
	Name    string `json:"name"`
	Value   any    `json:"value"`
	Unit    string `json:"unit,omitempty"`
	Quality string `json:"quality"`
	Error   string `json:"error,omitempty"`
}

// runProbe polls one device once:
// `roomwatch probe URL --profile NAME [--json] [--raw TABLE:START:COUNT]`.
func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "device profile (see --list), or auto (SNMP: chosen from sysObjectID)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	raw := fs.String("raw", "", "Modbus: read TABLE:START:COUNT (holding:0:4) and show it decoded every way")
	dir := fs.String("profiles-dir", "", "directory of user profiles")
	timeout := fs.Duration("timeout", 5*time.Second, "total time for the poll")
	retries := fs.Int("retries", 1, "retries per request")
	list := fs.Bool("list", false, "list the known profiles and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: roomwatch probe URL --profile NAME [--json] [--raw TABLE:START:COUNT]")
		fmt.Fprintln(stderr, "  URL: snmp://host:161?version=2c&community=public | snmp://user@host?version=3&auth=SHA&priv=AES")
		fmt.Fprintln(stderr, "       modbus+tcp://host:502?unit=1 | modbus+rtu:///dev/ttyUSB0?baud=9600&parity=N&unit=1")
		fmt.Fprintln(stderr, "       nut://[user:password@]host:3493/upsname (profile nut-ups by default)")
		fmt.Fprintf(stderr, "  SNMP secrets may come from %s, %s, %s\n", collectors.EnvCommunity, collectors.EnvAuthPass, collectors.EnvPrivPass)
		fs.PrintDefaults()
	}
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	fail := func(err error) int { return report(stderr, "probe", err) }
	set, err := profiles.Load(*dir)
	if err != nil {
		return fail(err)
	}
	if *list {
		for _, n := range set.Names() {
			fmt.Fprintf(stdout, "%-14s %-7s %s\n", n, set[n].Protocol, set[n].Description)
		}
		return 0
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	t, err := collectors.ParseTarget(pos[0])
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *raw != "" {
		return probeRaw(ctx, t, *raw, *timeout, stdout, stderr)
	}
	if err := serialPortMissing(t); err != nil {
		return fail(err)
	}
	if *profile == "" && t.Scheme == collectors.SchemeNUT {
		*profile = "nut-ups"
	}
	var detected *snmp.Identity
	if *profile == snmp.ProfileAuto {
		id, err := detectProfile(ctx, t, *timeout, *retries, set)
		if err != nil {
			fail(err)
			if h := probeHint(t, err); h != "" {
				fmt.Fprintln(stderr, h)
			}
			return 1
		}
		detected = &id
		if !*asJSON {
			fmt.Fprintf(stdout, "自动识别 auto-detected: %s (%s)\n", id.ProfileName(), id.Why)
		}
		*profile = id.ProfileName()
	}
	p, err := pickProfile(set, *profile)
	if err != nil {
		return fail(err)
	}
	if p.Protocol != t.Protocol() {
		return fail(fmt.Errorf("profile %s speaks %s but the URL is %s", p.Name, p.Protocol, t.Scheme))
	}
	cfg := collectors.DeviceConfig{
		Device:   collectors.Device{Name: t.String(), Profile: p.Name, Class: p.Class},
		Target:   t,
		Interval: *timeout, Timeout: *timeout, Retries: *retries,
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	poller, err := newPoller(cfg, p, log)
	if err != nil {
		return fail(err)
	}
	defer poller.Close()
	url := t.String()
	failPoll := func(err error) int {
		fail(errors.New(oneURL(err.Error(), url)))
		if h := probeHint(t, err); h != "" {
			fmt.Fprintln(stderr, h)
		}
		return 1
	}
	s, err := poller.Poll(ctx)
	if err != nil && !s.Reachable() {
		return failPoll(err)
	}
	if *asJSON {
		printProbeJSON(stdout, &s, p.Name, detected, err)
	} else {
		printProbeTable(stdout, &s)
	}
	if err != nil {
		return failPoll(err)
	}
	if noneGood(&s) {
		return fail(fmt.Errorf("设备有应答，但没有一个值有效：配置文件 %s 可能与设备不符（roomwatch probe --list 列出全部）\n"+
			"the device answered, but no value of profile %s is good: the profile may not fit the device (roomwatch probe --list)", p.Name, p.Name))
	}
	return 0
}

// detectProfile picks the profile of an SNMP device from what it
// answers; it is an error when none fits.
func detectProfile(ctx context.Context, t collectors.Target, timeout time.Duration, retries int, set profiles.Set) (snmp.Identity, error) {
	if t.Scheme != collectors.SchemeSNMP {
		return snmp.Identity{}, fmt.Errorf("profile auto works for snmp:// devices only (a Modbus unit does not say what it is): name a profile (roomwatch probe --list)")
	}
	id, err := snmp.DetectTarget(ctx, t, timeout, retries, set)
	if err != nil {
		return id, fmt.Errorf("%s: auto-detect: %w", t, err)
	}
	if id.Profile == nil {
		return id, fmt.Errorf("%s: auto-detect: %s (sysDescr %q): name a profile (roomwatch probe --list), or add sysobjectid to one", t, id.Why, id.SysDescr)
	}
	return id, nil
}

// pickProfile returns the profile --profile names, or says what to give.
func pickProfile(set profiles.Set, name string) (*profiles.Profile, error) {
	if name == "" {
		return nil, fmt.Errorf("--profile is required: one of %s (roomwatch probe --list describes them)", strings.Join(set.Names(), ", "))
	}
	p, ok := set[name]
	if !ok {
		hint := ""
		if near := yamlconf.Suggest(name, set.Names()); near != "" {
			hint = fmt.Sprintf("did you mean %q? ", near)
		}
		return nil, fmt.Errorf("--profile %q: no such profile (%shave %s; roomwatch probe --list describes them)", name, hint, strings.Join(set.Names(), ", "))
	}
	return p, nil
}

func printProbeJSON(w io.Writer, s *collectors.SampleSet, profile string, detected *snmp.Identity, err error) {
	out := probeJSON{Device: s.Device.Name, Profile: profile, Time: s.Time.Format(time.RFC3339), Detected: detected, Values: []probeJSONValue{}}
	if err != nil {
		out.Error = err.Error()
	}
	for _, v := range s.Values {
		jv := probeJSONValue{Name: v.Name, Unit: v.Unit, Quality: v.Quality.String(), Error: v.Err}
		if v.Quality == collectors.Good {
			jv.Value = v.Any()
		}
		out.Values = append(out.Values, jv)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func printProbeTable(w io.Writer, s *collectors.SampleSet) {
	fmt.Fprintf(w, "%s (%s) at %s, %v\n", s.Device.Name, s.Device.Profile, s.Time.Format(time.RFC3339), s.Duration.Round(time.Millisecond))
	var t termtable.Table
	t.Row("NAME", "VALUE", "UNIT", "QUALITY", "DETAIL")
	for _, v := range s.Values {
		val := "-"
		if v.Quality == collectors.Good {
			val = fmt.Sprint(v.Any())
		}
		t.Row(v.Name, val, v.Unit, v.Quality.String(), v.Err)
	}
	_, _ = t.WriteTo(w)
}

// parseRawSpec reads TABLE:START:COUNT.
func parseRawSpec(spec string) (table string, start, count uint16, err error) {
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return "", 0, 0, fmt.Errorf("--raw %q: want TABLE:START:COUNT such as holding:0:4", spec)
	}
	table = parts[0]
	if table != "holding" && table != "input" {
		return "", 0, 0, fmt.Errorf("--raw %q: table %q: want holding or input", spec, table)
	}
	s, err1 := strconv.ParseUint(parts[1], 0, 16)
	c, err2 := strconv.ParseUint(parts[2], 0, 16)
	if err := errors.Join(err1, err2); err != nil || c == 0 || c > 125 {
		return "", 0, 0, fmt.Errorf("--raw %q: want a start register 0-65535 and a count 1-125", spec)
	}
	return table, uint16(s), uint16(c), nil
}
