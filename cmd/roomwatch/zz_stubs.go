package main

import (
	"context"
	"io"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

func runMonitor(args []string, stdout, stderr io.Writer) int { return 1 }
func runAlarms(args []string, stdout, stderr io.Writer) int  { return 1 }
func probeRaw(ctx context.Context, t collectors.Target, spec string, timeout time.Duration, stdout, stderr io.Writer) int {
	return 1
}
