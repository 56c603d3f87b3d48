package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// report prints err for the person at the terminal, each line prefixed by
// the subcommand ("roomwatch check: deploy/x.yaml:9: devices[0].interval:
// …"), and returns the exit code 1.
func report(stderr io.Writer, cmd string, err error) int {
	for line := range strings.SplitSeq(strings.TrimSpace(err.Error()), "\n") {
		fmt.Fprintf(stderr, "roomwatch %s: %s\n", cmd, line)
	}
	return 1
}

// parseFlags parses a subcommand's flags. It returns ok false with the
// exit code when the command should stop: 0 after --help, 2 after a
// flag error (the flag package has printed it and the usage).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// parseArgs parses a subcommand's flags placed before, between or after
// its positional arguments (`roomwatch discover 10.0.0.0/24 --modbus`),
// and returns the positional arguments in order. ok false and code are
// as parseFlags.
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
