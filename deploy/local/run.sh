#!/usr/bin/env bash
# Runs roomwatch on this machine for a look around: a local InfluxDB 1.8.10
# on loopback (data under .local/), the monitor with its embedded NATS
# server, and simulated devices (deploy/local/demo.yaml). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:$(go env GOPATH)/bin"

state="$PWD/.local"
mkdir -p "$state/influxdb" "$state/roomwatch"
influx_http=127.0.0.1:18086
cat > "$state/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:18088"
[meta]
  dir = "$state/influxdb/meta"
[data]
  dir = "$state/influxdb/data"
  wal-dir = "$state/influxdb/wal"
  query-log-enabled = false
[http]
  bind-address = "$influx_http"
  log-enabled = false
[monitor]
  store-enabled = false
CONF

influxd -config "$state/influxdb.conf" >"$state/influxd.log" 2>&1 &
influx_pid=$!
trap 'kill $influx_pid 2>/dev/null; wait $influx_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
	curl -fsS "http://$influx_http/ping" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS -XPOST "http://$influx_http/query" --data-urlencode "q=CREATE DATABASE roomwatch" >/dev/null

# Demo logins of the patrol screen (bcrypt-hashed into .local/roomwatch).
printf 'roomwatch-demo\n' | bin/roomwatch user add demo --role admin --title 演示管理员 --config deploy/local/demo.yaml >/dev/null 2>&1
printf 'roomwatch-duty\n' | bin/roomwatch user add duty --role operator --title 值班员 --config deploy/local/demo.yaml >/dev/null 2>&1

# The notifier's channels go to a local webhook sink and a simulated GSM
# modem (on a socat pty pair), both printing what they get.
bin/roomwatch sink --listen 127.0.0.1:9561 &
sink_pid=$!
rm -f /tmp/roomwatch-demo-modem
bin/roomwatch sim --count 0 --control 127.0.0.1:9562 --modem /tmp/roomwatch-demo-modem 2>"$state/modem-sim.log" &
modem_pid=$!
trap 'kill $influx_pid $sink_pid $modem_pid 2>/dev/null; wait $influx_pid $sink_pid $modem_pid 2>/dev/null' EXIT

cat <<MSG
roomwatch demo
  InfluxDB      http://$influx_http  (database roomwatch, written every 10 s; log $state/influxd.log)
                curl -G http://$influx_http/query --data-urlencode db=roomwatch \\
                  --data-urlencode 'q=SELECT last(*) FROM roomwatch_env GROUP BY device'
  metrics       http://127.0.0.1:9550/metrics   health: http://127.0.0.1:9550/healthz
  alarms        bin/roomwatch alarms --config deploy/local/demo.yaml
  patrol screen http://127.0.0.1:9560   login demo / roomwatch-demo (admin: prints room QR codes),
                duty / roomwatch-duty (operator: ticks, scans, signs, acknowledges)
  simulators    curl -X POST http://127.0.0.1:9550/sim/scenario/mains-fail   (and mains-restore, hot-room, door-open, normal)
  notifier      the sink below prints each SMS and robot message; who is paged and what was sent:
                bin/roomwatch notify who --config deploy/local/demo.yaml --room dc1
                bin/roomwatch notify log --config deploy/local/demo.yaml
  modem         SMS to the simulated modem are printed below ("短信 → …"); answer one:
                curl -X POST 'http://127.0.0.1:9562/modem/inject?from=%2B8613800138001&text=确认+<code>'
MSG
bin/roomwatch run --config deploy/local/demo.yaml
