#!/usr/bin/env bash
# CI smoke of the load-test harness (seconds, not minutes): starts Drover in dev mode under a data folder of
# its own (its own Cassandra, HTTP and MQTT ports), runs the MQTT device simulator briefly (with a WebSocket
# watcher) and one Gatling simulation, checks they succeeded, and stops what it started, by PID.
# Needs the build done (mvn install / verify) and nothing else on ports 19042, 18080, 11883, 25590.
set -euo pipefail
cd "$(dirname "$0")/.."
source load-tests/dev-node.sh
dir=$(pwd)/target/smoke
rm -rf "$dir" && mkdir -p "$dir"
export DROVER_DATA_DIR="$dir/data" DROVER_DEV_CASSANDRA_DIR="$dir/data/cassandra"
export DROVER_CASSANDRA_CONTACT_POINT=127.0.0.1:19042 DROVER_HTTP_PORT=18080 DROVER_MQTT_PORT=11883 DROVER_REMOTE_PORT=25590 DROVER_RATE_LIMIT=5000
node_pid=""
cleanup() { stop_dev_node 19042; }
trap cleanup EXIT

start_dev_node smoke "$dir/node.log" 180

load-tests/simulate.sh --api http://127.0.0.1:18080 --admin-key-file "$dir/data/admin-api-key" --mqtt 127.0.0.1:11883 \
  --devices 20 --rate 200 --duration 5s --ramp-up 2s --ws-devices 5 --out "$dir/simulator.json" > "$dir/simulator.out"
python3 - "$dir/simulator.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["connected"] == 20, r
assert r["acked"] > 0 and r["failed"] == 0, r
assert r["pubackLatencyMs"]["count"] > 0, r
assert r["wsSamplesReceived"] > 0, "no telemetry reached the WebSocket watcher"
print("smoke: simulator ok: %d msg/s, PUBACK p99 %.1f ms, %d samples over the WebSocket" %
      (r["throughputPerSecond"], r["pubackLatencyMs"]["p99"], r["wsSamplesReceived"]))
PY

mvn -q -B -ntp -f load-tests/gatling/pom.xml gatling:test -Dsimulation=io.drover.gatling.RestSimulation \
  -Dusers=5 -DdurationSeconds=5 -Ddrover.api=http://127.0.0.1:18080 -Ddrover.adminKeyFile="$dir/data/admin-api-key" \
  > "$dir/gatling.out" 2>&1 || { tail -40 "$dir/gatling.out"; echo "smoke: Gatling failed"; exit 1; }
grep -q "percentage of failed events is less than 1.0 : true" "$dir/gatling.out" || { tail -40 "$dir/gatling.out"; exit 1; }
echo "smoke: Gatling RestSimulation ok ($(ls -d load-tests/gatling/target/gatling/restsimulation-* | tail -1)/index.html)"

# The README's rules example on this node (a 3 s overheat alarm from one mosquitto_pub), then the alarm-latency
# probe of rules-bench.sh with a few devices, so neither can rot.
API=http://127.0.0.1:18080/api/v1
D=(-H "Authorization: Bearer $(cat "$dir/data/dev-tenant-key")" -H 'Content-Type: application/json')
curl -sf "${D[@]}" -d '{"name":"overheat","condition":"temperature > 80","for":"3s",
  "actions":[{"type":"alarm","alarmType":"overheat","severity":"major"}]}' $API/rules > /dev/null
mosquitto_pub -h 127.0.0.1 -p 11883 -q 1 -i dev:dev-device-1 -u dev:dev-device-1 -P "$(cat "$dir/data/dev-device-token")" \
  -t devices/dev-device-1/telemetry -m '{"temperature": 85}'
for _ in $(seq 1 30); do
  curl -sf "${D[@]}" "$API/alarms?status=active" | grep -q '"type":"overheat"' && break
  sleep 1
done
curl -sf "${D[@]}" "$API/alarms?status=active" | grep -q '"type":"overheat"' || { echo "smoke: no overheat alarm"; exit 1; }
echo "smoke: rule → alarm ok"
java -cp "load-tests/target/classes:$(cat load-tests/target/bench-classpath.txt)" io.drover.loadtest.AlarmLatency \
  http://127.0.0.1:18080 "$dir/data/admin-api-key" 127.0.0.1:11883 5 "$dir/alarm-latency.json" > "$dir/alarm-latency.out" 2>&1 \
  || { tail -20 "$dir/alarm-latency.out"; echo "smoke: alarm latency probe failed"; exit 1; }
python3 -c "import json,sys; r=json.load(open('$dir/alarm-latency.json')); assert r['missed']==0 and r['raisedMs']['count']==5, r; print('smoke: alarm latency ok: raise p99 %.0f ms' % r['raisedMs']['p99'])"
