#!/usr/bin/env bash
# `make bench`: the whole-monitor benchmarks on this machine, against real
# peers (snmpd, influxd, the Modbus simulator), and the collectors alone
# beside them. Each prints CPU µs per value and peak RSS; the figures are
# gathered into one table at the end. Knobs: ROOMWATCH_BENCH_SECONDS,
# ROOMWATCH_BENCH_INTERVAL, ROOMWATCH_BENCH_DEVICES (see
# cmd/roomwatch/bench_test.go).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for b in CollectorsSNMP PollOnlySNMP CollectorsModbus PollOnlyModbus AlarmLatency; do
	echo "== Benchmark$b" >&2
	go test -run '^$' -bench "Benchmark$b\$" -benchtime 1x -timeout 20m ./cmd/roomwatch | tee -a "$out" >&2
done
echo
echo "figures on $(nproc) cores, $(date -u +%F):"
grep '^Benchmark' "$out" | sed -E 's/-[0-9]+ +1 +[0-9.]+ ns\/op//'
