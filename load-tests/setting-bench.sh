#!/usr/bin/env bash
# One node setting next to the defaults, in one run: how issue 13 decides a setting such as
# drover.telemetry.batch-window. One dev-mode Cassandra under target/setting-bench. The node is restarted
# without, then with SETTING_OPTS, in alternating rounds on the same fleet. Each round has three runs:
#   - a warm-up (not reported);
#   - a full-rate closed-loop run: 1,000 devices x 4 in flight, 3 values a message, QoS 1, with the node's and
#     Cassandra's CPU sampled from /proc;
#   - a light-load run: 1,000 msg/s, 50 devices watched over the WebSocket.
# It prints each round and the means with the ratio setting / default, and writes them to target/setting-bench/result.md.
#   SETTING_OPTS=-Ddrover.telemetry.batch-window=0 load-tests/setting-bench.sh
#   SETTING_ROUNDS (2)  SETTING_WARMUP (50 s)  SETTING_SECONDS (20 s measured at full rate)  SETTING_LIGHT_SECONDS (60 s)
# About 4.5 min a round per configuration. It uses bench.sh's ports, so do not run the two together.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source load-tests/dev-node.sh
: "${SETTING_OPTS:?SETTING_OPTS: the node JVM options to set against the defaults, e.g. -Ddrover.telemetry.batch-window=0}"
ROUNDS=${SETTING_ROUNDS:-2} WARMUP=${SETTING_WARMUP:-50} SECS=${SETTING_SECONDS:-20} LIGHT=${SETTING_LIGHT_SECONDS:-60}
dir=$root/target/setting-bench
CASS_PORT=19142 HTTP_PORT=18180 MQTT_PORT=11983 REMOTE_PORT=25690
for p in $CASS_PORT $HTTP_PORT $MQTT_PORT $REMOTE_PORT; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "setting-bench: port $p is in use" >&2; exit 1; fi
done
rm -rf "$dir" && mkdir -p "$dir"
export DROVER_DATA_DIR="$dir/data" DROVER_DEV_CASSANDRA_DIR="$dir/data/cassandra"
export DROVER_CASSANDRA_CONTACT_POINT=127.0.0.1:$CASS_PORT DROVER_HTTP_PORT=$HTTP_PORT DROVER_MQTT_PORT=$MQTT_PORT
export DROVER_REMOTE_PORT=$REMOTE_PORT DROVER_RATE_LIMIT=1000000
base_opts="-Ddrover.persistence.dev-cassandra.heap-mb=1024"
node_pid=""
trap 'stop_dev_node $CASS_PORT' EXIT
log() { echo "setting-bench $(date +%H:%M:%S) $*" >&2; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pid_on() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

mvn -q -B install -DskipTests
sim=(load-tests/simulate.sh --api "http://127.0.0.1:$HTTP_PORT" --admin-key-file "$dir/data/admin-api-key"
  --mqtt "127.0.0.1:$MQTT_PORT" --fleet "$dir/fleet.json" --devices 1000)
simulate() { # OUT, then simulator options
  local out=$1; shift
  "${sim[@]}" --out "$dir/$out.json" "$@" > "$dir/$out.out" 2> "$dir/$out.err" \
    || { tail -20 "$dir/$out.err"; echo "setting-bench: simulator run $out failed" >&2; exit 1; }
}
round() { # NAME ROUND JVM-OPTIONS
  local name=$1 r=$2 opts=$3 cass_pid a b a2 b2 len=$((SECS - 4))
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then # the node only; its Cassandra stays
    kill -TERM "$node_pid"; for _ in $(seq 1 30); do kill -0 "$node_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$node_pid" 2>/dev/null || true
  fi
  log "round $r: $name ($opts)"
  DROVER_JAVA_OPTS="$base_opts $opts" start_dev_node setting-bench "$dir/node-$name-$r.log"
  cass_pid=$(pid_on $CASS_PORT)
  simulate "$name-$r-warmup" --inflight 4 --keys 3 --qos 1 --ramp-up 5s --duration "${WARMUP}s"
  sleep 5
  # the CPU of the measured window: from 2 s after the 10 s ramp-up to 2 s before its end
  ( sleep 12; a=$(ticks "$node_pid"); b=$(ticks "$cass_pid"); sleep "$len"
    a2=$(ticks "$node_pid"); b2=$(ticks "$cass_pid")
    echo "$(( (a2 - a) / len )) $(( (b2 - b) / len ))" > "$dir/$name-$r-cpu.txt" ) &
  local cpu_pid=$!
  simulate "$name-$r-full" --inflight 4 --keys 3 --qos 1 --ramp-up 10s --duration "${SECS}s"
  wait "$cpu_pid"
  sleep 5
  simulate "$name-$r-light" --rate 1000 --keys 3 --qos 1 --ramp-up 5s --duration "${LIGHT}s" --ws-devices 50
}
for r in $(seq 1 "$ROUNDS"); do
  round default "$r" ""
  round setting "$r" "$SETTING_OPTS"
done

python3 - "$dir" "$ROUNDS" "$SETTING_OPTS" <<'PY' | tee "$dir/result.md"
import json, sys
d, rounds, opts = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(n): return json.load(open("%s/%s.json" % (d, n)))
cols = ["full msg/s", "node µs/msg", "Cassandra µs/msg", "light PUBACK p50 ms", "p99 ms", "light publish→WS p50 ms", "p99 ms"]
def row(name, r):
    f, l = load("%s-%d-full" % (name, r)), load("%s-%d-light" % (name, r))
    node, cass = (int(x) for x in open("%s/%s-%d-cpu.txt" % (d, name, r)).read().split())
    t = f["throughputPerSecond"]
    ws = l.get("publishToWebSocketMs", {"p50": 0, "p99": 0})
    return [t, node * 1e4 / t, cass * 1e4 / t, l["pubackLatencyMs"]["p50"], l["pubackLatencyMs"]["p99"], ws["p50"], ws["p99"]]
data = {n: [row(n, r) for r in range(1, rounds + 1)] for n in ("default", "setting")}
mean = {n: [sum(x[i] for x in v) / len(v) for i in range(len(cols))] for n, v in data.items()}
print("Setting: `%s`, against the defaults; %d alternating rounds, one dev node, same Cassandra and fleet." % (opts, rounds))
print("")
print("| round | node | " + " | ".join(cols) + " |")
print("|" + " --- |" * (len(cols) + 2))
for r in range(rounds):
    for n in ("default", "setting"):
        print("| %d | %s | %s |" % (r + 1, n, " | ".join("%.1f" % x for x in data[n][r])))
for n in ("default", "setting"):
    print("| mean | %s | %s |" % (n, " | ".join("%.1f" % x for x in mean[n])))
print("| ratio | setting / default | %s |" % " | ".join(
    "%.2f" % (mean["setting"][i] / mean["default"][i]) if mean["default"][i] else "n/a" for i in range(len(cols))))
PY
log "done; $dir/result.md"
