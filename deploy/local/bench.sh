#!/usr/bin/env bash
# `make bench` (issue 12): the whole monitor (`roomwatch run` with its
# embedded NATS, spool and rules) and the bare floor (the same polling
# libraries plus the InfluxDB client, no logic, every device polled at the
# top of each interval: cmd/roomwatch/testdata/bench/bare), each as a child
# process against the same real peers (snmpd on one UDP port per device,
# the Modbus simulator of `roomwatch sim`, influxd 1.8). CPU µs per value
# is the process's utime+stime over the window divided by the good values
# it polled; peak RSS is VmHWM, split into anonymous and file pages (the
# binary's) as they stand at the end of the window.
#
#   deploy/local/bench.sh          issue 12's table for this machine:
#                                  roomwatch against the bare floor, SNMP
#                                  and Modbus TCP, the idle monitor (one
#                                  device every 1 s and every 10 s) and the
#                                  NATS floor (the embedded server with the
#                                  monitor's streams, idle: what the idle
#                                  monitor cannot go below; testdata/bench/
#                                  natsfloor) (about 7 minutes)
#   deploy/local/bench.sh growth   (make bench GROWTH=1) the cost as the work
#                                  grows: 50, 200, 1,000 and 5,000 devices,
#                                  SNMP and Modbus, every 1 s and 10 s (about
#                                  20 minutes)
#
# The Telegraf column of issue 12 is left out: Telegraf is not installed
# on this machine.
#
# Knobs (see cmd/roomwatch/bench_test.go): ROOMWATCH_BENCH_SECONDS (window;
# default 45, growth: the larger of 20 s and four intervals),
# ROOMWATCH_BENCH_WARMUP (growth: the larger of 10 s and 1.5 intervals),
# ROOMWATCH_BENCH_INTERVAL (default 1s) and ROOMWATCH_BENCH_DEVICES (default
# 200) for the default table; for the growth grid GROWTH_DEVICES ("50 200
# 1000 5000"), GROWTH_PROTOCOLS ("snmp modbus"), GROWTH_INTERVALS ("1s 10s",
# whole seconds) and GROWTH_FLOOR_INTERVALS (the intervals at which the bare
# floor runs too, "1s"; "" for none). On a loaded or shared machine the
# figures are indicative only.
set -euo pipefail
cd "$(dirname "$0")/../.."

# 5,000 devices are 5,000 UDP sockets in snmpd, 10,000 descriptors in the
# simulator (listeners and connections) and 5,000 connections in the
# monitor. Go programs raise their own soft limit to the hard one; snmpd
# inherits the soft limit, so raise it here.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then hard=1048576; fi
ulimit -n "$hard" 2>/dev/null || true

# metric FILE NAME UNIT: the value of UNIT on the result line of BenchmarkNAME.
metric() {
	awk -v b="Benchmark$2" -v u="$3" '
		$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == u) { print $i; exit } }' "$1"
}

# cell FILE NAME UNIT SUFFIX [FORMAT]: the metric printed, or — when missing.
cell() {
	local v
	v=$(metric "$1" "$2" "$3")
	if [ -z "$v" ]; then echo "—"; else printf "${5:-%.1f}%s" "$v" "${4-}"; fi
}

# issue12: roomwatch against the bare floor, one go test run.
issue12() {
	local out status=0
	out=$(mktemp)
	trap "rm -f '$out'" EXIT
	# BenchmarkIdle and BenchmarkIdleDefault are the idle monitor (1
	# device, every ROOMWATCH_BENCH_INTERVAL and every 10 s, the default
	# interval); BenchmarkNATSFloor is the embedded NATS server with the
	# monitor's streams and nothing else. Each reports cpu-ms/s (CPU per
	# second of wall time).
	go test -run '^$' -bench '^Benchmark(CollectorsSNMP|CollectorsModbus|BareSNMP|BareModbus|Idle|IdleDefault|NATSFloor)$' \
		-benchtime 1x -timeout 30m ./cmd/roomwatch | tee "$out" >&2 || status=$?

	local devices=${ROOMWATCH_BENCH_DEVICES:-200} every=${ROOMWATCH_BENCH_INTERVAL:-1s}
	echo
	echo "$(date -u +%F), $(nproc) cores, ${devices} devices × 12 values every ${every}, window ${ROOMWATCH_BENCH_SECONDS:-45} s, loadavg $(cut -d' ' -f1-3 /proc/loadavg) (Telegraf not installed: no column)"
	echo
	echo "| | roomwatch | bare floor | NATS floor (idle) |"
	echo "|---|---|---|---|"
	local p name
	for p in SNMP Modbus; do
		name=$p
		if [ $p = Modbus ]; then name="Modbus TCP"; fi
		echo "| $name CPU per value | $(cell "$out" Collectors$p cpu-µs/value " µs") | $(cell "$out" Bare$p cpu-µs/value " µs") | — |"
		echo "| $name peak RSS | $(cell "$out" Collectors$p rss-MB " MB") | $(cell "$out" Bare$p rss-MB " MB") | $(cell "$out" NATSFloor rss-MB " MB") |"
		echo "| $name RSS anonymous / file pages | $(cell "$out" Collectors$p rss-anon-MB) / $(cell "$out" Collectors$p rss-file-MB " MB") | $(cell "$out" Bare$p rss-anon-MB) / $(cell "$out" Bare$p rss-file-MB " MB") | $(cell "$out" NATSFloor rss-anon-MB) / $(cell "$out" NATSFloor rss-file-MB " MB") |"
	done
	echo "| idle monitor (1 device every $every): CPU per second | $(cell "$out" Idle cpu-ms/s " ms" %.2f) | — | $(cell "$out" NATSFloor cpu-ms/s " ms" %.2f) |"
	echo "| idle monitor (1 device every 10s, the default): CPU per second | $(cell "$out" IdleDefault cpu-ms/s " ms" %.2f) | — | $(cell "$out" NATSFloor cpu-ms/s " ms" %.2f) |"
	echo "| idle monitor: peak RSS | $(cell "$out" IdleDefault rss-MB " MB") | — | $(cell "$out" NATSFloor rss-MB " MB") |"
	return "$status"
}

# seconds DURATION: a Go duration of whole seconds ("10s") as a number.
seconds() {
	case $1 in
	*[0-9]s) echo "${1%s}" ;;
	*) echo "GROWTH_INTERVALS: $1: want whole seconds such as 1s or 10s" >&2; exit 2 ;;
	esac
}

# growth: the monitor (and the floor at GROWTH_FLOOR_INTERVALS) at every
# point of devices × protocol × interval, one test process per point.
growth() {
	local tmp log
	tmp=$(mktemp -d)
	trap "rm -rf '$tmp'" EXIT
	log=${GROWTH_LOG:-$(mktemp /tmp/roomwatch-growth-XXXXXX.log)}
	go test -c -o "$tmp/roomwatch.test" ./cmd/roomwatch
	local started=$SECONDS rows="$tmp/rows"
	echo "growth grid: go test output in $log" >&2
	local proto interval devices secs window warmup which b prev_n prev_rss
	for proto in ${GROWTH_PROTOCOLS:-snmp modbus}; do
		for interval in ${GROWTH_INTERVALS:-1s 10s}; do
			for which in Collectors Bare; do
				if [ $which = Bare ] && [[ " ${GROWTH_FLOOR_INTERVALS-1s} " != *" $interval "* ]]; then
					continue
				fi
				prev_n="" prev_rss=""
				for devices in ${GROWTH_DEVICES:-50 200 1000 5000}; do
					secs=$(seconds "$interval")
					window=${ROOMWATCH_BENCH_SECONDS:-$((secs * 4 > 20 ? secs * 4 : 20))}
					warmup=${ROOMWATCH_BENCH_WARMUP:-$((secs * 3 / 2 > 10 ? secs * 3 / 2 : 10))}
					if [ $proto = modbus ]; then b=${which}Modbus; else b=${which}SNMP; fi
					local t0=$SECONDS out="$tmp/$b-$interval-$devices"
					if [ $((2 * devices + 1024)) -gt "$(ulimit -n)" ]; then
						echo "$b $devices devices: open-file limit $(ulimit -n) is too low (want $((2 * devices + 1024))): skipped" >&2
						continue
					fi
					(cd cmd/roomwatch && ROOMWATCH_BENCH_DEVICES=$devices ROOMWATCH_BENCH_INTERVAL=$interval \
						ROOMWATCH_BENCH_SECONDS=$window ROOMWATCH_BENCH_WARMUP=$warmup \
						"$tmp/roomwatch.test" -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime 1x \
						-test.timeout 30m) >"$out" 2>&1 || true
					cat "$out" >>"$log"
					growthRow "$out" "$b" "$proto" "$interval" "$devices" "$prev_n" "$prev_rss" >>"$rows"
					echo "$b $devices devices every $interval: $(tail -1 "$rows") ($((SECONDS - t0)) s)" >&2
					if [ -n "$(metric "$out" "$b" rss-MB)" ]; then
						prev_n=$devices prev_rss=$(metric "$out" "$b" rss-MB)
					fi
				done
			done
		done
	done

	echo
	echo "$(date -u +%F), $(nproc) cores, 12 values per device, grid took $(((SECONDS - started + 30) / 60)) min, loadavg $(cut -d' ' -f1-3 /proc/loadavg); window $([ -n "${ROOMWATCH_BENCH_SECONDS:-}" ] && echo "${ROOMWATCH_BENCH_SECONDS} s" || echo "max(20 s, 4 intervals)") after a warm-up of $([ -n "${ROOMWATCH_BENCH_WARMUP:-}" ] && echo "${ROOMWATCH_BENCH_WARMUP} s" || echo "max(10 s, 1.5 intervals)")"
	echo
	echo "| process | protocol | interval | devices | CPU µs/value | CPU ms/s | values/s (scheduled) | skipped polls | peak RSS MB | RSS anon / file MB | RSS per device (slope from the size above) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows"
}

# growthRow FILE BENCH PROTO INTERVAL DEVICES PREV_DEVICES PREV_RSS: one row
# of the growth table.
growthRow() {
	local f=$1 b=$2 who=roomwatch proto=SNMP
	if [[ $b == Bare* ]]; then who="bare floor"; fi
	if [ "$3" = modbus ]; then proto="Modbus TCP"; fi
	local rss slope="—"
	rss=$(metric "$f" "$b" rss-MB)
	if [ -z "$rss" ]; then
		echo "| $who | $proto | $4 | $5 | failed: $(grep -m1 -E 'FAIL|bench_test.go:[0-9]+:' "$f" | tr -d '|' | cut -c1-120) | | | | | | |"
		return
	fi
	if [ -n "$6" ]; then
		slope=$(awk -v a="$rss" -v b="$7" -v n="$5" -v m="$6" 'BEGIN { printf "%.0f KB", (a - b) * 1024 / (n - m) }')
	fi
	echo "| $who | $proto | $4 | $5 | $(cell "$f" "$b" cpu-µs/value) | $(cell "$f" "$b" cpu-ms/s) | $(cell "$f" "$b" values/s "" %.0f) ($(cell "$f" "$b" scheduled-values/s "" %.0f)) | $(cell "$f" "$b" skipped "" %.0f) | $(cell "$f" "$b" rss-MB) | $(cell "$f" "$b" rss-anon-MB) / $(cell "$f" "$b" rss-file-MB) | $slope |"
}

case ${1:-} in
"") issue12 ;;
growth) growth ;;
*)
	echo "usage: $0 [growth]" >&2
	exit 2
	;;
esac
