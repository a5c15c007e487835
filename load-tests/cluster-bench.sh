#!/usr/bin/env bash
# The cluster section of the benchmarks (called by bench.sh, or on its own): on this one box, durable QoS 1
# ingest of one node next to three nodes (same fleet, same run), then a kill -9 under load with the failover
# timings. Uses ./drover cluster (ports 8080+, 1883+, 25520+, 8558+, Cassandra on 9042 with a 1 GiB heap: nothing
# else may use them), writes target/bench-cluster/ and the cluster section of docs/benchmarks.md.
# Knobs: BENCH_CLUSTER_DEVICES (600), BENCH_CLUSTER_SECONDS (15), BENCH_DOC (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/bench-cluster
rm -rf "$dir" && mkdir -p "$dir"
DEVICES=${BENCH_CLUSTER_DEVICES:-600}
SECS=${BENCH_CLUSTER_SECONDS:-15}
DOC=${BENCH_DOC:-docs/benchmarks.md}
export DROVER_RATE_LIMIT=${DROVER_RATE_LIMIT:-1000000} # the polls below and the provisioning must not meet 429s
log() { echo "cluster-bench $(date +%H:%M:%S) $*" >&2; }
started_cassandra=""
cleanup() {
  ./drover cluster stop >/dev/null 2>&1 || true
  [ -n "$started_cassandra" ] && ./drover cassandra stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
t_start=$(date +%s)

if ! ./drover cassandra status >/dev/null 2>&1; then
  ./drover cassandra start --heap-mb 1024 >&2
  started_cassandra=yes
fi
common=(--admin-key-file data/admin-api-key --fleet "$dir/fleet.json" --devices "$DEVICES" --inflight 4 --keys 3 --qos 1)
sim() { # name, then options
  local name=$1; shift
  log "simulator: $name"
  load-tests/simulate.sh --out "$dir/$name.json" "$@" > "$dir/$name.out" 2> "$dir/$name.err" \
    || { tail -20 "$dir/$name.err"; echo "cluster-bench: simulator run $name failed" >&2; exit 1; }
}

# 1. one node
./drover cluster start 1 >&2
sim provision --api http://127.0.0.1:8080 "${common[@]}" --provision-only true
sim warmup-1 --api http://127.0.0.1:8080 --mqtt 127.0.0.1:1883 "${common[@]}" --ramp-up 5s --duration 10s
sim one-node --api http://127.0.0.1:8080 --mqtt 127.0.0.1:1883 "${common[@]}" --ramp-up 10s --duration "${SECS}s"
./drover cluster stop >&2

# 2. three nodes, the same fleet spread over their brokers
brokers=127.0.0.1:1883,127.0.0.1:1884,127.0.0.1:1885
./drover cluster start 3 >&2
sim warmup-3 --api http://127.0.0.1:8080 --mqtt "$brokers" "${common[@]}" --ramp-up 5s --duration 10s
sim three-nodes --api http://127.0.0.1:8080 --mqtt "$brokers" "${common[@]}" --ramp-up 10s --duration "${SECS}s"

# 3. kill -9 of node 2 under load (a third of the best three-node rate), devices reconnecting to the next broker
rate=$(python3 -c "import json; print(max(100, json.load(open('$dir/three-nodes.json'))['throughputPerSecond'] // 3))")
log "failover: $rate msg/s, kill -9 of node 2 after 15 s"
load-tests/simulate.sh --out "$dir/failover.json" --api http://127.0.0.1:8080 --mqtt "$brokers" "${common[@]}" \
  --rate "$rate" --ramp-up 5s --duration 100s > "$dir/failover.out" 2> "$dir/failover.err" &
sim_pid=$!
sleep 20
# Devices 1, 4, 7, … connect to node 2 (device i → broker i mod 3); 60 of them and 60 others are watched, each
# polled on its own (8 at a time, 2 s timeout) until it meets its condition: the figures are the slowest device's.
read -r twins back < <(python3 - "$dir" "$(cat data/cluster/node-2.pid)" <<'PY'
import concurrent.futures, json, os, signal, sys, time, urllib.request
d, pid = sys.argv[1], int(sys.argv[2])
f = json.load(open(f"{d}/fleet.json"))
n = min(180, len(f["devices"]))
ids = [f["devices"][i]["id"] for i in range(0, n, 3)]
moved = [f["devices"][i]["id"] for i in range(1, n, 3)]
key = f["tenantKey"]
def get(i):
    req = urllib.request.Request(f"http://127.0.0.1:8080/api/v1/devices/{i}", headers={"Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return json.load(r)
    except Exception as e:
        return "no answer: " + str(e)[:80]
t0 = time.monotonic()
os.kill(pid, signal.SIGKILL)
twin_at, back_at, last = {}, {}, {}
def poll(i):
    while time.monotonic() - t0 < 120 and (i not in twin_at or (i in moved and i not in back_at)):
        r = get(i)
        now = int((time.monotonic() - t0) * 1000)
        last[i] = r if isinstance(r, str) else r.get("connectivity")
        if not isinstance(r, str):
            twin_at.setdefault(i, now)
            c = r.get("connectivity") or {}
            if i in moved and c.get("online") and ":25521#" not in (c.get("node") or ""):
                back_at.setdefault(i, now)
        time.sleep(0.25)
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(poll, ids + moved))
missing = [i for i in ids + moved if i not in twin_at] + [i for i in moved if i not in back_at]
if missing:
    for i in sorted(set(missing)):
        print(f"cluster-bench: {i} not failed over within 120 s, last seen: {json.dumps(last.get(i))}", file=sys.stderr)
    print("- -")
else:
    print(max(twin_at.values()), max(back_at.values()))
PY
)
[ "$twins" != "-" ] && [ -n "$twins" ] || { echo "cluster-bench: no failover within 120 s" >&2; exit 1; }
log "twins answering after $twins ms, node 2's devices online elsewhere after $back ms"
wait "$sim_pid" || { tail -20 "$dir/failover.err"; echo "cluster-bench: failover simulator failed" >&2; exit 1; }
./drover cluster stop >&2

python3 - "$dir" "$DOC" "$twins" "$back" "$t_start" "$DEVICES" "$SECS" <<'PY'
import json, sys, datetime, platform, subprocess, re, os
d, doc, twins, back, t_start, devices, secs = sys.argv[1:]
r = lambda n: json.load(open(f"{d}/{n}.json"))
one, three, fo = r("one-node"), r("three-nodes"), r("failover")
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
wall = int(datetime.datetime.utcnow().timestamp()) - int(t_start)
lines = [
  "<!-- cluster-bench: begin (generated by load-tests/cluster-bench.sh, do not edit) -->",
  f"## Cluster: `load-tests/cluster-bench.sh` ({now})", "",
  f"Machine: {os.cpu_count()} vCPU, {platform.platform()}, {java}. `./drover cluster` on this one box: every node, "
  "Cassandra (1 GiB heap) and the simulator share the same cores, so three nodes cannot be faster than one here — "
  "the figures show what a cluster costs on one box, not how it scales on several. "
  f"Wall time {wall // 60} min {wall % 60} s.", "",
  f"### Durable QoS 1 ingest, 1 node vs 3 nodes (same run, same {devices}-device fleet, 4 in flight per device, {secs} s measured)", "",
  "| cluster | brokers | msg/s acknowledged | failed | ratio to 1 node |", "| --- | --- | --- | --- | --- |",
  f"| 1 node | 1 | {one['throughputPerSecond']:,} | {one['failed']} | 1.00 |",
  f"| 3 nodes | 3 (device i → broker i mod 3) | {three['throughputPerSecond']:,} | {three['failed']} | "
  f"{three['throughputPerSecond'] / max(1, one['throughputPerSecond']):.2f} |", "",
  "### kill -9 of one of three nodes under load", "",
  f"{fo['requestedRate']:,} msg/s requested over 100 s, node 2 killed 15 s into the window; devices reconnect to the next broker.", "",
  "| measure | value |", "| --- | --- |",
  f"| kill → every watched twin answering through node 1 (120 devices: 60 of node 2, 60 others; the slowest) | {int(twins) / 1000:.1f} s |",
  f"| kill → node 2's 60 watched devices online on another node (the slowest) | {int(back) / 1000:.1f} s |",
  f"| messages acknowledged / failed over the run (rate mode: a failed message is not sent again) | {fo['acked']:,} / {fo['failed']:,} |",
  f"| reconnects to another broker | {fo.get('reconnects', 0):,} |",
  "<!-- cluster-bench: end -->",
]
text = open(doc).read()
block = "\n".join(lines) + "\n"
if "<!-- cluster-bench: begin" in text:
    text = re.sub(r"<!-- cluster-bench: begin.*?<!-- cluster-bench: end -->\n?", block, text, flags=re.S)
else:
    marker = "<!-- bench.sh: end"
    i = text.find(marker)
    j = text.find("\n", i) + 1 if i >= 0 else 0
    text = text[:j] + "\n" + block + text[j:]
open(doc, "w").write(text)
print(block)
PY
