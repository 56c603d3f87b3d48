package main

import "io"

func runAlarms(args []string, stdout, stderr io.Writer) int { return 1 }
