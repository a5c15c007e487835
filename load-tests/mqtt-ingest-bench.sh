#!/usr/bin/env bash
# Durable QoS 1 ingest of a running dev-mode Drover next to raw Mosquitto QoS 1 (tuned in-flight
# window, FACTS.md) with the same publisher, in the same run. Loopback only, bounded in messages.
#   ./drover dev        (another terminal; DROVER_RATE_LIMIT does not matter here)
#   load-tests/mqtt-ingest-bench.sh [connections=20] [messages=100000] [inflight=32]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f load-tests/target/bench-classpath.txt ] || mvn -q -B -pl load-tests -am install -DskipTests
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf=$(mktemp)
cat > "$conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_inflight_messages 1000
max_queued_messages 100000
persistence false
CONF
mosquitto -c "$conf" > /dev/null 2>&1 &
mpid=$!
trap 'kill $mpid 2>/dev/null; rm -f "$conf"' EXIT
sleep 0.5
java -cp "load-tests/target/classes:$(cat load-tests/target/bench-classpath.txt)" io.drover.loadtest.MqttIngestBench \
  http://127.0.0.1:8080 "${DROVER_MQTT_PORT:-1883}" "${DROVER_DATA_DIR:-data}/admin-api-key" "$port" "$@"
