package main

import (
	"log/slog"
	"testing"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func TestFitSpoolCutsToTheDisk(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	if got := fitSpool(256<<20, dir, log); got != 256<<20 {
		t.Errorf("a bound that fits changed to %v", got)
	}
	huge := yamlconf.Size(1 << 60) // an exabyte: no disk here holds it
	got := fitSpool(huge, dir, log)
	if got <= 0 || got >= huge {
		t.Errorf("an exabyte bound became %v, want a part of the free disk", got)
	}
}
