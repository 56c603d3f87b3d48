#!/usr/bin/env bash
# `make bench` (issue 12): the whole monitor (`roomwatch run` with its
# embedded NATS, spool and rules) and the bare floor (the same polling
# libraries plus the InfluxDB client, no logic: cmd/roomwatch/testdata/bench/bare)
# in one `go test` run, each as a child process against the same real
# peers (snmpd on one UDP port per device, the Modbus simulator of
# `roomwatch sim`, influxd 1.8), then the table of issue 12 for this
# machine: CPU µs per value (the process's utime+stime over the window
# divided by the good values it polled) and peak RSS (VmHWM).
#
# The Telegraf column of issue 12 is left out: Telegraf is not installed
# on this machine.
#
# Knobs (see cmd/roomwatch/bench_test.go): ROOMWATCH_BENCH_SECONDS (window,
# default 45), ROOMWATCH_BENCH_INTERVAL (default 1s), ROOMWATCH_BENCH_DEVICES
# (default 200). On a loaded or shared machine the figures are indicative only.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -run '^$' -bench '^Benchmark(CollectorsSNMP|CollectorsModbus|BareSNMP|BareModbus)$' \
	-benchtime 1x -timeout 30m ./cmd/roomwatch | tee "$out" >&2 || status=$?

# metric NAME UNIT: the value of UNIT on the result line of BenchmarkNAME.
metric() {
	awk -v b="Benchmark$1" -v u="$2" '
		$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == u) { print $i; exit } }' "$out"
}
cell() {
	local v
	v=$(metric "$1" "$2")
	if [ -z "$v" ]; then echo "—"; else printf '%.1f %s' "$v" "$3"; fi
}

devices=${ROOMWATCH_BENCH_DEVICES:-200}
echo
echo "$(date -u +%F), $(nproc) cores, ${devices} devices × 12 values every ${ROOMWATCH_BENCH_INTERVAL:-1s}, window ${ROOMWATCH_BENCH_SECONDS:-45} s, loadavg $(cut -d' ' -f1-3 /proc/loadavg) (Telegraf not installed: no column)"
echo
echo "| | roomwatch | bare floor |"
echo "|---|---|---|"
echo "| SNMP CPU per value | $(cell CollectorsSNMP cpu-µs/value µs) | $(cell BareSNMP cpu-µs/value µs) |"
echo "| SNMP peak RSS | $(cell CollectorsSNMP rss-MB MB) | $(cell BareSNMP rss-MB MB) |"
echo "| Modbus TCP CPU per value | $(cell CollectorsModbus cpu-µs/value µs) | $(cell BareModbus cpu-µs/value µs) |"
echo "| Modbus TCP peak RSS | $(cell CollectorsModbus rss-MB MB) | $(cell BareModbus rss-MB MB) |"
exit "$status"
