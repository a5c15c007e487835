#!/usr/bin/env bash
# The soak (issue 12, not in CI): one dev node under moderate mixed load for SOAK_MINUTES (30) — 1,000 MQTT devices
# at 1,000 msg/s QoS 1, 100 of them watched over WebSockets, REST readers (device, shadow, latest values, list),
# device churn (create, read, delete) — sampling the node JVM every minute: old-generation heap after a full GC,
# threads, open files. Pass: each is within 10 % between minute 5 and the last minute. Its own dev node, Cassandra,
# ports and data under target/soak; writes the soak section of docs/benchmarks.md.
# Knobs: SOAK_MINUTES (30), SOAK_DEVICES (1000), SOAK_RATE (1000), BENCH_DOC. Needs JDK 17+, Maven, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source load-tests/dev-node.sh
dir=$root/target/soak
MINUTES=${SOAK_MINUTES:-30}
DEVICES=${SOAK_DEVICES:-1000}
RATE=${SOAK_RATE:-1000}
DOC=${BENCH_DOC:-$root/docs/benchmarks.md}
CASS_PORT=19442 HTTP_PORT=18480 MQTT_PORT=12283 REMOTE_PORT=25990
for p in $CASS_PORT $HTTP_PORT $MQTT_PORT $REMOTE_PORT; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "soak: port $p is in use" >&2; exit 1; fi
done
rm -rf "$dir" && mkdir -p "$dir"
export DROVER_DATA_DIR="$dir/data" DROVER_DEV_CASSANDRA_DIR="$dir/data/cassandra"
export DROVER_CASSANDRA_CONTACT_POINT=127.0.0.1:$CASS_PORT DROVER_HTTP_PORT=$HTTP_PORT DROVER_MQTT_PORT=$MQTT_PORT
export DROVER_REMOTE_PORT=$REMOTE_PORT DROVER_RATE_LIMIT=1000000
export DROVER_JAVA_OPTS="-Ddrover.persistence.dev-cassandra.heap-mb=1024 -Xmx1g"
api=http://127.0.0.1:$HTTP_PORT
admin="$dir/data/admin-api-key"
started=$(date +%s)
log() { echo "soak $(date +%H:%M:%S) $*" >&2; }
node_pid="" sim_pid="" rest_pid=""
cleanup() {
  for p in $sim_pid $rest_pid; do kill "$p" 2>/dev/null || true; done
  stop_dev_node $CASS_PORT
}
trap cleanup EXIT

log "starting dev mode"
mvn -q -B install -DskipTests
start_dev_node soak "$dir/node.log"
jvm=$(ss -ltnpH "sport = :$HTTP_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$jvm" ] || { echo "soak: no node JVM on port $HTTP_PORT" >&2; exit 1; }

log "provisioning $DEVICES devices"
load-tests/simulate.sh --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet.json" \
  --devices "$DEVICES" --provision-only true > "$dir/provision.out" 2>&1

log "load for $MINUTES min: $DEVICES devices at $RATE msg/s, 100 on WebSockets, REST readers, device churn"
load-tests/simulate.sh --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet.json" \
  --devices "$DEVICES" --rate "$RATE" --inflight 4 --keys 3 --qos 1 --ramp-up 20s --duration "$((MINUTES * 60 + 60))s" \
  --ws-devices 100 --out "$dir/sim.json" > "$dir/sim.out" 2> "$dir/sim.err" &
sim_pid=$!

python3 - "$api" "$dir/fleet.json" "$((MINUTES * 60 + 80))" "$dir/rest.json" <<'EOF' &
import json, sys, time, random, urllib.request, urllib.error
api, fleet, seconds, out = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
key = fleet["tenantKey"]
ids = fleet.get("deviceIds") or fleet.get("devices") or []
ids = [d if isinstance(d, str) else d.get("id") for d in ids]
counts = {}
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status = r.status
            r.read()
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception:
        status = "error"
    counts[str(status)] = counts.get(str(status), 0) + 1
end, n = time.time() + seconds, 0
while time.time() < end:
    d = random.choice(ids) if ids else "none"
    call("GET", "/api/v1/devices/" + d)
    call("GET", "/api/v1/devices/" + d + "/shadow")
    call("GET", "/api/v1/devices/" + d + "/telemetry/latest")
    if n % 10 == 0:
        call("GET", "/api/v1/devices?limit=50")
        churn = "churn-%d" % n
        call("POST", "/api/v1/devices", {"id": churn})
        call("GET", "/api/v1/devices/" + churn)
        call("DELETE", "/api/v1/devices/" + churn)
    n += 1
    time.sleep(0.05)
json.dump(counts, open(out, "w"))
EOF
rest_pid=$!

sample() { # minute → "minute old_gen_kb threads open_files"
  jcmd "$jvm" GC.run > /dev/null 2>&1 || true
  sleep 2
  local ou threads fds
  ou=$(jstat -gc "$jvm" | awk 'NR==2 {print int($8)}')   # OU: old generation used, KB
  threads=$(ls /proc/"$jvm"/task | wc -l)
  fds=$(ls /proc/"$jvm"/fd | wc -l)
  echo "$1 $ou $threads $fds"
}
: > "$dir/samples.txt"
# Samples at fixed times after the load started (minute m at m × 60 s), so that the last one is still under load:
# the load runs a minute longer than the samples (on 2026-12-02 a loop of "sleep 58" plus the sampling drifted past
# the end of a load of exactly MINUTES, and minute 30 was taken with every device gone).
load_start=$(date +%s)
for m in $(seq 1 "$MINUTES"); do
  wait_s=$(( load_start + m * 60 - $(date +%s) ))
  [ "$wait_s" -gt 0 ] && sleep "$wait_s"
  kill -0 "$sim_pid" 2>/dev/null || { echo "soak: the load ended before minute $m was sampled" >&2; exit 1; }
  kill -0 "$jvm" 2>/dev/null || { echo "soak: the node died at minute $m" >&2; exit 1; }
  s=$(sample "$m"); echo "$s" >> "$dir/samples.txt"; log "minute $s (old-gen KB, threads, open files)"
done
wait "$sim_pid" || { tail -20 "$dir/sim.err"; echo "soak: the simulator failed" >&2; exit 1; }
sim_pid=""
wait "$rest_pid" || true
rest_pid=""

python3 - "$dir" "$DOC" "$MINUTES" "$DEVICES" "$RATE" "$(( $(date +%s) - started ))" <<'EOF'
import json, os, sys, datetime, subprocess
d, doc, minutes, devices, rate, took = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
rows = [list(map(int, l.split())) for l in open(os.path.join(d, "samples.txt")) if l.strip()]
first = next((r for r in rows if r[0] == min(5, minutes)), rows[0])
last = rows[-1]
sim = json.load(open(os.path.join(d, "sim.json")))
rest = json.load(open(os.path.join(d, "rest.json"))) if os.path.exists(os.path.join(d, "rest.json")) else {}
def ratio(i): return last[i] / first[i] if first[i] else float("nan")
ok = all(abs(ratio(i) - 1) <= 0.10 for i in (1, 2, 3))
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
lines = ["<!-- soak: begin (generated by load-tests/soak.sh, do not edit) -->", "",
         "## Soak: %d minutes of mixed load" % minutes, "",
         "%s UTC, `load-tests/soak.sh` (%s s), %s vCPU, one dev node + its Cassandra on the same box: %s devices at %s msg/s "
         "QoS 1 (achieved %.0f msg/s, PUBACK p99 %.0f ms), 100 watched over WebSockets, REST readers and device churn "
         "(answers by status: %s)." % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), took, cpu, devices, rate,
                                      sim.get("throughputPerSecond", 0), sim.get("pubackLatencyMs", {}).get("p99", 0),
                                      ", ".join("%s × %s" % (v, k) for k, v in sorted(rest.items()))), "",
         "| minute | old generation after a full GC (MB) | threads | open files |", "| --- | --- | --- | --- |"]
for r in rows:
    if r[0] in (1, first[0], last[0]) or r[0] % 5 == 0:
        lines.append("| %d | %.1f | %d | %d |" % (r[0], r[1] / 1024, r[2], r[3]))
lines += ["", "**Minute %d → %d: old generation %.2f ×, threads %.2f ×, open files %.2f ×** (target: each within 10 %%: %s)."
          % (first[0], last[0], ratio(1), ratio(2), ratio(3), "met" if ok else "NOT met"), "", "<!-- soak: end -->"]
block = "\n".join(lines)
sys.path.insert(0, "load-tests")
from doc_block import put_block
put_block(doc, "soak", block)
print(block)
sys.exit(0 if ok else 3)
EOF
log "done in $(( $(date +%s) - started )) s"
