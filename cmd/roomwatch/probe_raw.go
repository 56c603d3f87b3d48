package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
)

// probeRaw reads a Modbus register block and prints it decoded in every
// type and byte/word order, for finding the settings of an unknown sensor.
func probeRaw(ctx context.Context, t collectors.Target, spec string, _ time.Duration, stdout, stderr io.Writer) int {
	if t.Protocol() != "modbus" {
		fmt.Fprintln(stderr, "roomwatch probe: --raw reads Modbus registers; the URL is", t.Scheme)
		return 1
	}
	table, start, count, err := parseRawSpec(spec)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch probe:", err)
		return 1
	}
	regs, err := modbus.ReadRaw(ctx, t, table, start, count)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch probe:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s registers %d..%d\n", t, table, start, int(start)+len(regs)-1)
	fmt.Fprint(stdout, modbus.RawTable(regs, start))
	return 0
}
