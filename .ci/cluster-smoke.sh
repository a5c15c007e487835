#!/usr/bin/env bash
# The README's "Try a three-node cluster" section, run as written (in a clean clone's data/): start, status,
# a device on node 2 read through node 3, kill -9 of node 2 and the device's twin still answering, a rolling
# restart, stop. Stops what it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
# A Cassandra of its own (never one left answering on 9042), the README's commands otherwise unchanged.
export DROVER_CASSANDRA_CONTACT_POINT=127.0.0.1:19043 DROVER_DEV_CASSANDRA_DIR="$PWD/target/cluster-smoke/cassandra"
if [ -e data/admin-api-key ]; then
  echo "cluster smoke: data/admin-api-key exists; run this in a clean clone (it starts from an empty Cassandra)" >&2; exit 1
fi
rm -rf target/cluster-smoke
cleanup() {
  ./drover cluster stop >/dev/null 2>&1 || true
  ./drover cassandra stop --data "$DROVER_DEV_CASSANDRA_DIR" --port 19043 >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "cluster smoke: $*" >&2; tail -n 30 data/cluster/node-*.log >&2 || true; exit 1; }

./drover cluster start
./drover cluster status | tee /tmp/drover-cluster-status.txt
[ "$(grep -c ' Up ' /tmp/drover-cluster-status.txt)" = 3 ] || fail "not 3 members Up"
DEV=$(cat data/dev-tenant-key)
mosquitto_pub -h 127.0.0.1 -p 1884 -q 1 -i dev:dev-device-1 -u dev:dev-device-1 -P "$(cat data/dev-device-token)" \
  -t devices/dev-device-1/telemetry -m '{"temperature": 22}' || fail "publish to node 2"
curl -sf -H "Authorization: Bearer $DEV" http://127.0.0.1:8082/api/v1/devices/dev-device-1 | grep -q '"state":"active"' \
  || fail "the device is not active through node 3"
kill -9 "$(cat data/cluster/node-2.pid)"
t0=$(date +%s)
until curl -sf --max-time 3 -H "Authorization: Bearer $DEV" "http://127.0.0.1:8080/api/v1/devices/dev-device-1/telemetry/latest" \
    | grep -q temperature; do
  [ $(( $(date +%s) - t0 )) -lt 90 ] || fail "the twin does not answer after the kill"
  sleep 1
done
echo "cluster smoke: the device answers through node 1 $(( $(date +%s) - t0 )) s after kill -9 of node 2"
./drover cluster status
./drover cluster stop >/dev/null
./drover cluster start
./drover cluster restart
./drover cluster status | tee /tmp/drover-cluster-status.txt
[ "$(grep -c ' Up ' /tmp/drover-cluster-status.txt)" = 3 ] || fail "not 3 members Up after the rolling restart"
echo "cluster smoke: passed"
