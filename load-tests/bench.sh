#!/usr/bin/env bash
# The whole benchmark suite of docs/benchmarks.md in one bounded run (≤ 15 min on the 2-core box):
# starts Drover in dev mode under target/bench (its own Cassandra, ports and data, like the CI smoke) and
# Debian's Mosquitto (tuned as FACTS.md says), then measures, each next to the baseline it names:
#   1. durable MQTT QoS 1 ingest vs raw Mosquitto QoS 1 pass-through, same simulator and payloads, rounds alternate;
#      at the end of the run, the same node restarted with writes discarded (bench only) as a second baseline
#   2. publish→WebSocket latency at half of the measured maximum rate
#   3. shadow GET throughput/latency (Gatling ShadowReadSimulation) and the REST mix (RestSimulation)
#   4. the telemetry writer vs raw Cassandra driver writes of the same rows, and 24 h queries raw vs rollups
#   5. as many MQTT connections as one process may hold here (open-file cap), memory per connection
#   6. ingest with 0, 10 and 100 active rules, publish → alarm on WebSocket (load-tests/rules-bench.sh)
#   7. the cluster: 1 vs 3 nodes, kill -9 under load (load-tests/cluster-bench.sh)
#   8. the web console in headless chromium: ingest → card delay vs a plain WebSocket client, 10,000 devices on the map
#      and in the fleet table (load-tests/console-bench.sh)
# CPU of every process is sampled each second (/proc), the node and Cassandra are profiled with JFR during one more ingest run.
# Results: target/bench/*.json|*.out and the generated part of docs/benchmarks.md (between its bench.sh markers).
#   load-tests/bench.sh                      full run (defaults below)
#   BENCH_NODE_OPTS=-Ddrover.telemetry.batch-window=0 load-tests/bench.sh   (a setting's full run, to set against one without)
#   BENCH_SECONDS=5 BENCH_CONNECTIONS=500 BENCH_ROUNDS=1 BENCH_DOC=/tmp/b.md load-tests/bench.sh   (a quick try)
# Needs: JDK 17+, Maven, mosquitto (apt-get install -y mosquitto), python3; nothing else on the ports below.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source load-tests/dev-node.sh
dir=$root/target/bench
SECS=${BENCH_SECONDS:-15}            # measured window of each ingest run
ROUNDS=${BENCH_ROUNDS:-2}            # Mosquitto / Drover rounds, alternating
DEVICES=${BENCH_DEVICES:-1000}       # connections of the ingest runs (each 4 messages in flight)
CONNS=${BENCH_CONNECTIONS:-19000}    # the connection-count run (open-file cap 20,000 a process here)
DOC=${BENCH_DOC:-$root/docs/benchmarks.md}
CASS_PORT=19142 HTTP_PORT=18180 MQTT_PORT=11983 REMOTE_PORT=25690 MOSQ_PORT=18830
started=$(date +%s)

for p in $CASS_PORT $HTTP_PORT $MQTT_PORT $REMOTE_PORT $MOSQ_PORT; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "bench: port $p is in use" >&2; exit 1; fi
done
command -v mosquitto >/dev/null || { echo "bench: mosquitto is missing (apt-get install -y mosquitto)" >&2; exit 1; }
rm -rf "$dir" && mkdir -p "$dir"
export DROVER_DATA_DIR="$dir/data" DROVER_DEV_CASSANDRA_DIR="$dir/data/cassandra"
export DROVER_CASSANDRA_CONTACT_POINT=127.0.0.1:$CASS_PORT DROVER_HTTP_PORT=$HTTP_PORT DROVER_MQTT_PORT=$MQTT_PORT
export DROVER_REMOTE_PORT=$REMOTE_PORT DROVER_RATE_LIMIT=1000000
# BENCH_NODE_OPTS: more JVM options of the node (e.g. -Ddrover.telemetry.batch-window=0), named on the page
export DROVER_JAVA_OPTS="-Ddrover.persistence.dev-cassandra.heap-mb=1024${BENCH_NODE_OPTS:+ $BENCH_NODE_OPTS}"
api=http://127.0.0.1:$HTTP_PORT
admin="$dir/data/admin-api-key"

node_pid="" mosq_pid="" sampler_pid=""
cleanup() {
  for p in $sampler_pid $mosq_pid; do kill "$p" 2>/dev/null || true; done
  stop_dev_node $CASS_PORT
}
trap cleanup EXIT
log() { echo "bench $(date +%H:%M:%S) $*" >&2; }
pid_on() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

log "building (if needed) and starting dev mode"
mvn -q -B install -DskipTests
start_dev_node bench "$dir/node.log"
cass_pid=$(pid_on $CASS_PORT)

cat > "$dir/mosquitto.conf" <<EOF
listener $MOSQ_PORT 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 1000
max_queued_messages 100000
EOF
mosquitto -c "$dir/mosquitto.conf" > "$dir/mosquitto.log" 2>&1 &
mosq_pid=$!
sleep 1

# CPU ticks and RSS of each process, once a second: epoch-ms node cassandra mosquitto simulators node-rss-kB
# (started again when the node is restarted, with the new node's pid; the report cuts its windows by time)
start_sampler() {
  (
    tick() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
    while true; do
      sim=0
      for p in $(pgrep -f 'io.drover.loadtest.sim.DeviceSimulator' || true); do sim=$((sim + $(tick "$p"))); done
      rss=$(awk '/VmRSS/{print $2}' "/proc/$node_pid/status" 2>/dev/null || echo 0)
      echo "$(date +%s%3N) $(tick "$node_pid") $(tick "$cass_pid") $(tick "$mosq_pid") $sim $rss"
      sleep 1
    done
  ) >> "$dir/cpu.tsv" &
  sampler_pid=$!
}
start_sampler

ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Cassandra compacts (and the node recomputes rollups) for a while after a load: wait (≤ 180 s) until both
# together use < 40 % of a core, so each run starts from a quiet machine. After the 90 s warm-up and the rounds
# this took over 44 s (the old limit), and the WebSocket and Gatling runs then measured a saturated machine.
settle() {
  local a b t0; t0=$(date +%s)
  for _ in $(seq 1 90); do
    a=$(( $(ticks "$cass_pid") + $(ticks "$node_pid") )); sleep 2; b=$(( $(ticks "$cass_pid") + $(ticks "$node_pid") ))
    if [ $(( (b - a) / 2 )) -lt 40 ]; then
      [ $(( $(date +%s) - t0 )) -lt 30 ] || log "quiet after $(( $(date +%s) - t0 )) s"
      return 0
    fi
  done
  log "not quiet after 180 s (node + Cassandra $(( (b - a) / 2 )) % of a core); going on"
}
simulate() { # name, then simulator options
  local name=$1; shift
  settle
  log "simulator: $name"
  load-tests/simulate.sh --out "$dir/$name.json" "$@" > "$dir/$name.out" 2> "$dir/$name.err" \
    || { tail -20 "$dir/$name.err"; echo "bench: simulator run $name failed" >&2; exit 1; }
}
# 1. ingest. Raw Mosquitto first, on an idle node: Drover's rounds leave rollup recomputation behind (the
#    minutes they wrote close ~1 min later), which is Drover's cost and must not land on a Mosquitto round.
#    Each target gets a warm-up run first (not reported): a just-started node's JIT makes its first seconds
#    several times slower. Every run is a fresh simulator JVM; the 10 s ramp-up lets it warm up too.
common=(--devices "$DEVICES" --inflight 4 --keys 3 --qos 1 --ramp-up 10s --duration "${SECS}s")
simulate "warmup-mosquitto" --target mosquitto --mqtt 127.0.0.1:$MOSQ_PORT --devices "$DEVICES" --ramp-up 5s --duration 10s
for r in $(seq 1 "$ROUNDS"); do
  simulate "mosquitto-$r" --target mosquitto --mqtt 127.0.0.1:$MOSQ_PORT "${common[@]}"
done
# Drover's warm-up is the same QoS 1 load for BENCH_WARMUP seconds (90): the node's and Cassandra's JIT compilers
# still took 21-29 % of their CPU after a 20 s one (JFR), a cost of the first minutes, not of the steady state.
WARMUP=${BENCH_WARMUP:-90}
drover_rounds() { # NAME: a warm-up run, then NAME-1 .. NAME-ROUNDS against the node
  simulate "warmup-$1" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-ingest.json" \
    --devices "$DEVICES" --inflight 4 --keys 3 --qos 1 --ramp-up 5s --duration "${WARMUP}s"
  for r in $(seq 1 "$ROUNDS"); do
    simulate "$1-$r" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-ingest.json" "${common[@]}"
  done
}
drover_rounds drover
# the same load once more with JFR on the node and on Cassandra (not reported as a round: profiling costs CPU). The
# recording run falls to 0.5-2k msg/s with PUBACK p99 over 7 s, so its profile is not the load the rounds measure;
# JFR's "default" settings instead of "profile" did not change that (599 msg/s, 2026-12-03), so "profile" stays
( sleep 12; jcmd "$node_pid" JFR.start name=bench settings=profile duration=10s filename="$dir/node.jfr" >/dev/null ) &
( sleep 12; jcmd "$cass_pid" JFR.start name=bench settings=profile duration=10s filename="$dir/cassandra.jfr" >/dev/null ) &
simulate "drover-profiled" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-ingest.json" \
  --devices "$DEVICES" --inflight 4 --keys 3 --qos 1 --ramp-up 10s --duration 10s

# 2. publish→WebSocket at half of the maximum rate measured above
half=$(python3 -c "import json,sys; v=[json.load(open('$dir/drover-%d.json'%r))['throughputPerSecond'] for r in range(1,$ROUNDS+1)]; print(max(1,int(max(v)/2)))")
simulate "websocket-half-rate" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-ingest.json" \
  --devices "$DEVICES" --rate "$half" --inflight 4 --keys 3 --ramp-up 5s --duration "${SECS}s" --ws-devices 200

# 3. Gatling: shadow reads (closed model) and the REST mix
gatling() { # name simulation users seconds
  log "gatling: $1"
  local t0; t0=$(date +%s%3N)
  mvn -q -B -ntp -f load-tests/gatling/pom.xml gatling:test -Dsimulation=io.drover.gatling.$2 -Dusers="$3" \
    -DdurationSeconds="$4" -Ddrover.api=$api -Ddrover.adminKeyFile="$admin" > "$dir/$1.out" 2>&1 \
    || { tail -40 "$dir/$1.out"; echo "bench: Gatling $1 failed" >&2; exit 1; }
  echo "$t0 $(date +%s%3N)" > "$dir/$1.window"
}
gatling gatling-rest RestSimulation 10 20
# the node's JIT warms on the shadow path first (not reported): cold, a 20 s run measured half of what it carries warm
gatling gatling-shadow-warmup ShadowReadSimulation 16 30
gatling gatling-shadow-read ShadowReadSimulation 16 20

# 4. telemetry writer vs raw driver writes (same Cassandra; the node idles meanwhile)
log "telemetry writer vs raw driver"
t0=$(date +%s%3N)
load-tests/telemetry-bench.sh $CASS_PORT 10 > "$dir/writer.out" 2> "$dir/writer.err" \
  || { tail -20 "$dir/writer.err"; echo "bench: writer benchmark failed" >&2; exit 1; }
echo "$t0 $(date +%s%3N)" > "$dir/writer.window"

# 5. connections: memory before the fleet exists, with its twins, and with every device connected
heap_after_gc() { # "live committed" heap in kB after a full GC
  jcmd "$node_pid" GC.run >/dev/null
  sleep 1
  jcmd "$node_pid" GC.heap_info | grep -m1 'heap' | sed -E 's/.*total ([0-9]+)K, used ([0-9]+)K.*/\2 \1/'
}
memory() { # label: live heap, committed heap, RSS (kB), open files
  echo "$1 $(heap_after_gc) $(awk '/VmRSS/{print $2}' "/proc/$node_pid/status") $(ls "/proc/$node_pid/fd" | wc -l)" >> "$dir/memory.txt"
}
memory before-fleet
log "provisioning $CONNS devices"
simulate "provision" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-conn.json" \
  --devices "$CONNS" --provision-only true
memory fleet-provisioned
# each worker process holds ≤ ~10k connections from its own source address; rate low: the run is about holding them
procs=$(( (CONNS + 9999) / 10000 ))
hold=$(( CONNS / 350 + 5 ))
( simulate "connections" --api $api --admin-key-file "$admin" --mqtt 127.0.0.1:$MQTT_PORT --fleet "$dir/fleet-conn.json" \
    --devices "$CONNS" --processes "$procs" --rate 200 --inflight 1 --keys 3 --ramp-up "${hold}s" --duration 25s ) &
sim_pid=$!
# measure in the middle of the hold window, once every connection is up
for _ in $(seq 1 $((hold + 60))); do
  sleep 1
  grep -q "measuring" "$dir/connections.err" 2>/dev/null && break
done
sleep 10
grep "measuring" "$dir/connections.err" | tail -1 > "$dir/connections.progress" || true
memory connected
wait "$sim_pid"
memory disconnected

# 1b. the second baseline of section 1, BENCHMARK ONLY: the same node restarted with
#     -Ddrover.telemetry.bench-discard-writes=true (telemetry acknowledged at once and not stored, never a production
#     setting), the same Cassandra, fleet and simulator: broker + Drover pipeline without the durable write. Last,
#     so that no other section runs on such a node.
log "restarting the node with telemetry writes discarded (bench-only baseline)"
kill "$sampler_pid" 2>/dev/null || true
kill -TERM "$node_pid"; for _ in $(seq 1 30); do kill -0 "$node_pid" 2>/dev/null || break; sleep 1; done
kill -KILL "$node_pid" 2>/dev/null || true
DROVER_JAVA_OPTS="$DROVER_JAVA_OPTS -Ddrover.telemetry.bench-discard-writes=true" start_dev_node bench "$dir/node-discard.log"
grep -q "bench-discard-writes is on" "$dir/node-discard.log" || { echo "bench: the node did not say it discards writes" >&2; exit 1; }
start_sampler
drover_rounds discard

kill "$sampler_pid" 2>/dev/null || true; sampler_pid=""
echo "$started $(date +%s)" > "$dir/run.window"
echo "${BENCH_NODE_OPTS:-}" > "$dir/node-opts"
python3 load-tests/bench-report.py "$dir" "$DOC"
log "done in $(( $(date +%s) - started )) s; results in $dir, page $DOC"

# 6. the rules section (load-tests/rules-bench.sh: its own dev node, Cassandra and ports) and 7. the cluster
#    section: 1 vs 3 nodes and a kill under load (load-tests/cluster-bench.sh, its own nodes and the Cassandra on
#    9042); this run's node and Cassandra are stopped first. BENCH_RULES=0 / BENCH_CLUSTER=0 skip them.
cleanup
trap - EXIT
# without this run's DROVER_* settings (its ports, data folder and Cassandra); no node limit on requests
clean_env=(env -u DROVER_DATA_DIR -u DROVER_DEV_CASSANDRA_DIR -u DROVER_CASSANDRA_CONTACT_POINT -u DROVER_HTTP_PORT
  -u DROVER_MQTT_PORT -u DROVER_REMOTE_PORT -u DROVER_JAVA_OPTS BENCH_DOC="$DOC")
if [ "${BENCH_RULES:-1}" = 1 ]; then
  "${clean_env[@]}" bash load-tests/rules-bench.sh
fi
if [ "${BENCH_CLUSTER:-1}" = 1 ]; then
  "${clean_env[@]}" bash load-tests/cluster-bench.sh
fi
# 8. the console section (load-tests/console-bench.sh: ConsoleBrowserTest in headless chromium). BENCH_CONSOLE=0 skips it.
if [ "${BENCH_CONSOLE:-1}" = 1 ]; then
  "${clean_env[@]}" bash load-tests/console-bench.sh
fi
