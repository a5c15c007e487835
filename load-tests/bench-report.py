#!/usr/bin/env python3
"""Turns the files of one load-tests/bench.sh run into the generated part of docs/benchmarks.md.

usage: bench-report.py RUN_DIR DOC.md   (the part between the bench.sh markers is replaced; added if missing)
Every figure comes from RUN_DIR; the only constants are the targets of issue 5 and ThingsBoard's published
figures (quoted with their source).
"""
import collections
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys

run, doc = sys.argv[1], sys.argv[2]
BEGIN, END = "<!-- bench.sh: begin (generated, do not edit) -->", "<!-- bench.sh: end -->"
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count()


def load(name):
    path = os.path.join(run, name)
    return json.load(open(path)) if os.path.exists(path) else None


samples = []  # (ms, node, cassandra, mosquitto, simulators, node_rss_kb)
for line in open(os.path.join(run, "cpu.tsv")):
    f = line.split()
    if len(f) == 6:
        samples.append(tuple(int(x) for x in f))


def cpu(start_ms, end_ms):
    """Average CPU % (100 = one core) of node, cassandra, mosquitto, simulators between two times."""
    inside = [s for s in samples if start_ms <= s[0] <= end_ms]
    if len(inside) < 2:
        return None
    a, b = inside[0], inside[-1]
    secs = (b[0] - a[0]) / 1000.0
    return [max(0.0, (b[i] - a[i]) / TICK / secs * 100) for i in range(1, 5)]


def window(result):
    return result["windowStartEpochMs"], result["windowEndEpochMs"]


def fmt_cpu(c):
    if c is None:
        return "n/a"
    return "node %d %%, Cassandra %d %%, Mosquitto %d %%, simulator %d %%" % tuple(round(x) for x in c)


def ms(x):
    return "%.1f ms" % x if x < 100 else "%d ms" % round(x)


def n(x):
    return "{:,}".format(int(round(x)))


out = []
w = out.append
started, ended = [int(x) for x in open(os.path.join(run, "run.window")).read().split()]
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
w(BEGIN)
w("## Full run: `load-tests/bench.sh` (%s UTC)" % datetime.datetime.utcfromtimestamp(started).strftime("%Y-%m-%d %H:%M"))
w("")
w("Machine: %d vCPU, %d GiB, %s, %s. Drover in dev mode (one node, HiveMQ CE embedded, Cassandra 5.0 with 1 GiB heap "
  "launched by it), Debian's Mosquitto, the simulator and Gatling all on these %d cores, loopback only. "
  "Suite wall time: **%d min %02d s** (build included). Raw files: `target/bench/`." %
  (CORES, mem_gib, platform.platform(terse=True), java.strip(), CORES, (ended - started) // 60, (ended - started) % 60))
node_opts_file = os.path.join(run, "node-opts")
node_opts = open(node_opts_file).read().strip() if os.path.exists(node_opts_file) else ""
if node_opts:
    w("")
    w("**Options of the dev node in this run (`BENCH_NODE_OPTS`; not the rules and cluster scripts): `%s`** — not the defaults." % node_opts)
w("")

# ---------------------------------------------------------------------------------------------- ingest
rounds = sorted(int(m.group(1)) for m in (re.match(r"drover-(\d+)\.json", os.path.basename(p))
                                            for p in glob.glob(os.path.join(run, "drover-*.json"))) if m)
w("### 1. Durable MQTT QoS 1 ingest next to raw Mosquitto QoS 1")
first = load("drover-%d.json" % rounds[0]) if rounds else None
if first:
    w("%s devices (one connection each), MQTT %s, %d messages in flight per device (closed loop), %d values a message, "
      "%d s measured after a 10 s ramp-up; Mosquitto's rounds first on an idle node, then Drover's after a "
      "warm-up run (Drover's rounds leave rollup recomputation behind, which must not land on Mosquitto's). Mosquitto 2.0 with `max_inflight_messages 1000`, "
      "`max_queued_messages 100000`, no persistence (FACTS.md), one subscriber draining it: its PUBACK means "
      "\"the broker has it\"; Drover's means \"written to Cassandra\"." %
      (n(first["devices"]), first["mqttVersion"], first["inflightPerDevice"], first["valuesPerMessage"], first["windowSeconds"]))
w("")
w("| round | target | msg/s acknowledged | PUBACK p50 | p99 | max | failed | CPU (100 % = one core) | node / Cassandra CPU µs per msg |")
w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
ratios = []
best = {"mosquitto": 0, "drover": 0, "discard": 0}
tputs = {"mosquitto": [], "drover": [], "discard": []}
per_msg = {"drover": [], "discard": []}
drover_cpu = []
LABEL = {"mosquitto": "raw Mosquitto", "drover": "Drover durable",
         "discard": "Drover, writes discarded (bench-only switch)"}
def ingest_row(label, target, res):
    tputs[target].append(res["throughputPerSecond"])
    best[target] = max(best[target], res["throughputPerSecond"])
    c = cpu(*window(res))
    if target == "drover" and c:
        drover_cpu.append((res["throughputPerSecond"], c))
    us = "n/a"
    if c and res["throughputPerSecond"] and target in per_msg:
        node_us, cass_us = (c[0] / 100 * 1e6 / res["throughputPerSecond"], c[1] / 100 * 1e6 / res["throughputPerSecond"])
        per_msg[target].append((node_us, cass_us))
        us = "%.0f / %.0f" % (node_us, cass_us)
    l = res["pubackLatencyMs"]
    w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (label, LABEL[target], n(res["throughputPerSecond"]), ms(l["p50"]),
                                                        ms(l["p99"]), ms(l["max"]), n(res["failed"]), fmt_cpu(c), us))
for r in rounds:
    pair = {}
    for target in ("mosquitto", "drover"):
        res = load("%s-%d.json" % (target, r))
        if not res:
            continue
        pair[target] = res["throughputPerSecond"]
        ingest_row(str(r), target, res)
    if len(pair) == 2 and pair["mosquitto"]:
        ratios.append(pair["drover"] / pair["mosquitto"])
for r in rounds:
    res = load("discard-%d.json" % r)
    if res:
        ingest_row("%d (end of run)" % r, "discard", res)
w("")
def mean(xs):
    return sum(xs) / len(xs) if xs else 0
if ratios:
    w("**Ratio durable / raw Mosquitto: %.2f** (mean / mean of the rounds, the issue-13 measure; round by round %s; "
      "best / best %.2f; target ≥ 0.60)." % (mean(tputs["drover"]) / mean(tputs["mosquitto"]) if tputs["mosquitto"] else 0,
                                              ", ".join("%.2f" % x for x in ratios),
                                              best["drover"] / best["mosquitto"] if best["mosquitto"] else 0))
if per_msg["drover"]:
    w("")
    w("CPU per acknowledged message, mean of the durable rounds: **node %.0f µs, Cassandra %.0f µs** (target ≤ 30 µs "
      "each; CPU samples of the round's window ÷ its rate)." % (mean([x[0] for x in per_msg["drover"]]),
                                                               mean([x[1] for x in per_msg["drover"]])))
if tputs["discard"] and tputs["mosquitto"] and tputs["drover"]:
    w("")
    w("**Where the gap is** (means of the rounds): Drover with writes discarded carries %.2f × raw Mosquitto (the broker "
      "and Drover's pipeline: auth, codec, hub, rules stage, live feed, PUBACK), and durable Drover %.2f × that (the cost "
      "of the Cassandra write, its CPU included, on the same two cores). The discarding node is the same build started "
      "with `-Ddrover.telemetry.bench-discard-writes=true`, a benchmark-only switch that stores nothing; its rounds ran "
      "at the end of the suite, after a warm-up of their own, on the same fleet and Cassandra." %
      (mean(tputs["discard"]) / mean(tputs["mosquitto"]), mean(tputs["drover"]) / mean(tputs["discard"])))
w("")

# ---------------------------------------------------------------------------------------------- websocket
ws = load("websocket-half-rate.json")
w("### 2. Publish → WebSocket at half of the maximum rate")
if ws:
    l, d = ws["pubackLatencyMs"], ws.get("publishToWebSocketMs", {"p50": 0, "p99": 0, "max": 0, "count": 0})
    w("Rate %s msg/s requested (half of the best Drover round), %s acknowledged, %s devices watched over `/api/v1/ws` "
      "(%s samples received in all). Latency from the device's send time (in the payload) to the frame's arrival, "
      "same clock." % (n(ws["requestedRate"]), n(ws["throughputPerSecond"]), n(ws["wsDevices"]), n(ws["wsSamplesReceived"])))
    w("")
    w("| measure | n | p50 | p99 | max |")
    w("| --- | --- | --- | --- | --- |")
    w("| publish → WebSocket frame | %s | %s | %s | %s |" % (n(d["count"]), ms(d["p50"]), ms(d["p99"]), ms(d["max"])))
    w("| publish → PUBACK (durable) | %s | %s | %s | %s |" % (n(l["count"]), ms(l["p50"]), ms(l["p99"]), ms(l["max"])))
    w("")
    w("CPU: %s. Target: p99 ≤ 50 ms." % fmt_cpu(cpu(*window(ws))))
w("")


# ---------------------------------------------------------------------------------------------- gatling
def gatling(name):
    path = os.path.join(run, name + ".out")
    if not os.path.exists(path):
        return None
    text = open(path).read()
    block = text[text.find("---- Global Information"):]

    def val(label):
        m = re.search(re.escape(label) + r"[^|]*\|\s*([\d.,]+|-)", block)
        return float(m.group(1).replace(",", "")) if m and m.group(1) != "-" else 0.0

    t0, t1 = [int(x) for x in open(os.path.join(run, name + ".window")).read().split()]
    return {"count": val("request count"), "p50": val("50th percentile"), "p99": val("99th percentile"),
            "max": val("max response time"), "rps": val("mean throughput"),
            "failedLine": (re.findall(r"percentage of failed events.*", text) or ["?"])[0],
            "cpu": cpu(t0, t1)}


w("### 3. REST (Gatling 3.15, Java DSL)")
w("| simulation | users | requests | req/s | p50 | p99 | max | errors |")
w("| --- | --- | --- | --- | --- | --- | --- | --- |")
for name, label, users in (("gatling-shadow-read", "`ShadowReadSimulation` (GET shadow, closed model)", 16),
                           ("gatling-rest", "`RestSimulation` (create, shadow write/read, telemetry post + 3 queries)", 10)):
    g = gatling(name)
    if g:
        w("| %s | %d | %s | %s | %d ms | %d ms | %d ms | %s |" % (label, users, n(g["count"]), n(g["rps"]), g["p50"], g["p99"],
                                                           g["max"], g["failedLine"].replace("percentage of failed events", "failed")))
sr = gatling("gatling-shadow-read")
w("")
if sr:
    w("`ShadowReadSimulation` ran after a 30 s warm-up run of itself (not reported), so the node's JIT has compiled "
      "the shadow path. Shadow GET target (issue 13): ≥ 5,000 req/s with p99 ≤ 10 ms. CPU over the Gatling run (JVM "
      "start included; Gatling itself is not sampled): %s." % fmt_cpu(sr["cpu"]))
w("")

# ---------------------------------------------------------------------------------------------- writer
w("### 4. Telemetry writer next to raw Cassandra driver writes; 24 h queries")
path = os.path.join(run, "writer.out")
writer_ratios = []
if os.path.exists(path):
    text = open(path).read()
    w("`load-tests/telemetry-bench.sh` against the same Cassandra (1,000 devices, 4 numeric keys a message): the "
      "baseline writes each message's telemetry_msg row (the writer's layout, V009) as one statement with 256 requests "
      "in flight; the writer is `TelemetryHub.submit` (batches by replica, see docs/telemetry.md). Rates are in values "
      "(4 a message).")
    w("")
    w("| round | raw driver values/s | Drover writer values/s | ratio |")
    w("| --- | --- | --- | --- |")
    raw = dict(re.findall(r"round (\d+): raw driver.*?([\d,]+) values/s", text))
    wr = dict(re.findall(r"round (\d+): Drover writer.*?([\d,]+) values/s", text))
    for k in sorted(raw, key=int):
        if k in wr:
            a, b = float(raw[k].replace(",", "")), float(wr[k].replace(",", ""))
            writer_ratios.append(b / a)
            w("| %s | %s | %s | %.2f |" % (k, n(a), n(b), b / a))
    w("")
    w("| query, 24 h of one key at one sample / 10 s | p50 | p99 | max |")
    w("| --- | --- | --- | --- |")
    for label, p50, p99, mx in re.findall(r"^(24 h [^\n]*?)\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms\s+max\s+([\d.]+) ms", text, re.M):
        w("| %s | %s ms | %s ms | %s ms |" % (label.strip(), p50, p99, mx))
w("")

# ---------------------------------------------------------------------------------------------- connections
w("### 5. Connections held by one node, memory per connection")
mem = {}
mp = os.path.join(run, "memory.txt")
if os.path.exists(mp):
    for line in open(mp):
        f = line.split()
        if len(f) == 5:  # label, live heap, committed heap, RSS (kB), open files
            mem[f[0]] = {"live": int(f[1]), "committed": int(f[2]), "rss": int(f[3]), "fds": int(f[4])}
conn = load("connections.json")
per = None
if conn and "before-fleet" in mem and "connected" in mem:
    N = conn["connected"]
    m0, m2 = mem["before-fleet"], mem["connected"]
    m1 = mem.get("fleet-provisioned", m0)
    w("%s devices provisioned over REST, then connected by %d simulator processes (each from its own 127.0.0.x "
      "address) over a ramp-up, %s msg/s over the fleet while held; %s connected, %s connect failures; the node had "
      "%s open files (cap `ulimit -n` = %s a process here)." %
      (n(conn["devices"]), conn["processes"], n(conn["requestedRate"]), n(N), n(conn["connectFailures"]), n(m2["fds"]),
       subprocess.run(["bash", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip()))
    w("")
    w("| node state | live heap after full GC | committed heap | RSS | open files |")
    w("| --- | --- | --- | --- | --- |")
    for label in ("before-fleet", "fleet-provisioned", "connected", "disconnected"):
        if label in mem:
            m = mem[label]
            w("| %s | %s MB | %s MB | %s MB | %s |" % (label, n(m["live"] / 1024), n(m["committed"] / 1024),
                                                    n(m["rss"] / 1024), n(m["fds"])))
    w("")
    if N:
        heap_c = (m2["live"] - m1["live"]) / N
        rss_c = (m2["rss"] - m1["rss"]) / N
        heap_d = (m2["live"] - m0["live"]) / N
        rss_d = (m2["rss"] - m0["rss"]) / N
        heap_t = (m1["live"] - m0["live"]) / conn["devices"]
        per = (heap_c, rss_c, heap_d, rss_d)
        w("Per connection (connected − provisioned, ÷ %s): **live heap %.1f KB, RSS %.1f KB**; per device with its twin "
          "actor (connected − before the fleet): live heap %.1f KB, RSS %.1f KB. The live heap is what the connections "
          "keep after a full GC; the RSS growth also holds heap the JVM committed for garbage meanwhile, so it is an "
          "upper bound of what a connection needs. Target: ≤ 20 KB a connection." % (n(N), heap_c, rss_c, heap_d, rss_d))
        w("")
        w("Per live idle twin (provisioned − before the fleet, ÷ %s devices; the twins created over REST are live, "
          "not yet passivated): **live heap %.1f KB** (issue 13's target ≤ 3 KB; what it is made of: "
          "docs/device-twin.md, \"Memory per twin\")." % (n(conn["devices"]), heap_t))
        w("")
        w("Extrapolated to 100,000 connections on one node (linear in the measured slope; needs a machine whose "
          "open-file cap is above 100k): +%s MB live heap and ≤ +%s MB RSS for the connections (≤ +%s MB RSS with "
          "their twins) over the idle node's %s MB RSS." % (n(heap_c * 100000 / 1024), n(rss_c * 100000 / 1024),
                                                          n(rss_d * 100000 / 1024), n(m0["rss"] / 1024)))
w("")

# ---------------------------------------------------------------------------------------------- thingsboard
w("### 6. Per-vCPU throughput next to ThingsBoard's published figures")
if drover_cpu:
    tput, c = max(drover_cpu, key=lambda x: x[0])
    used = (c[0] + c[1]) / 100
    w("Drover, best round above: %s msg/s (%s data points/s) on %d vCPU shared with the load generator → "
      "**%s msg/s per vCPU of the machine**; Drover + Cassandra used %.2f cores → **%s msg/s per core they used** "
      "(ack after the Cassandra write)." %
      (n(tput), n(tput * (first["valuesPerMessage"] if first else 4)), CORES, n(tput / CORES), used, n(tput / used if used else 0)))
w("")
w("ThingsBoard, \"ThingsBoard Performance on different AWS instances\" "
  "(https://thingsboard.io/docs/reference/performance-aws-instances/, source "
  "`thingsboard/thingsboard.github.io` `_includes/docs/reference/performance-aws-instances.md`), test agent on a "
  "separate instance, 3 data points a message, 24 h runs:")
w("")
w("| ThingsBoard scenario | instance | load | CPU | msg/s per vCPU |")
w("| --- | --- | --- | --- | --- |")
w("| B: Kafka + PostgreSQL | m6a.large, 2 vCPU | 5K devices, 5,000 msg/s (15K data points/s) | 95 % | 2,500 |")
w("| C: Kafka + PostgreSQL + Cassandra | m6a.2xlarge, 8 vCPU | 25K devices, 10,000 msg/s (30K data points/s) | 75 % | 1,250 |")
w("| E: Kafka + PostgreSQL + Cassandra | m6a.2xlarge, 8 vCPU | 100K devices, 10,000 msg/s (30K data points/s) | 95 % | 1,250 |")
w("")
w("Not like for like: ThingsBoard's load generator ran on another instance (ours takes part of the same 2 cores), its "
  "runs last 24 h (ours seconds), and with Kafka its PUBACK follows the write to the queue, not to the time-series store.")
w("")

# ---------------------------------------------------------------------------------------------- profile
NODE_GROUPS = (("com.datastax", "Cassandra driver"), ("com.hivemq", "HiveMQ broker / client"),
               ("io.netty", "Netty"), ("org.apache.pekko.http", "Pekko HTTP"),
               ("org.apache.pekko.stream", "Pekko Streams"), ("org.apache.pekko", "Pekko actors"),
               ("com.fasterxml.jackson", "Jackson"), ("io.drover", "Drover code"), ("io.prometheus", "metrics"))
CASSANDRA_GROUPS = (("org.apache.cassandra.db.compaction", "compaction"), ("org.apache.cassandra.index", "indexes (SAI)"),
                    ("org.apache.cassandra.db.commitlog", "commit log"), ("org.apache.cassandra.db.memtable", "memtable"),
                    ("org.apache.cassandra.io", "SSTable I/O"), ("org.apache.cassandra.transport", "native protocol"),
                    ("org.apache.cassandra.cql3", "CQL statements"), ("org.apache.cassandra.db.rows", "rows / cells"),
                    ("org.apache.cassandra.db.partitions", "partitions"), ("org.apache.cassandra.db", "storage engine, other"),
                    ("org.apache.cassandra.service", "coordinator"), ("org.apache.cassandra.net", "messaging"),
                    ("org.apache.cassandra.utils", "utilities"), ("io.netty", "Netty"), ("org.apache.cassandra", "other Cassandra"))


def events(jfr_file, kind):
    """The events of one kind in a JFR recording, as printed by `jfr print`."""
    if not os.path.exists(jfr_file):
        return []
    r = subprocess.run(["jfr", "print", "--events", kind, jfr_file], capture_output=True, text=True)
    return r.stdout.split(kind)[1:] if r.returncode == 0 else []


def profile(jfr_file, title, what, group_names):
    """A section on where one JVM's CPU went, from its JFR recording: library groups, threads, GC, leaf frames."""
    samples_ev = events(jfr_file, "jdk.ExecutionSample")
    leaf, groups, total = collections.Counter(), collections.Counter(), 0
    callers = collections.defaultdict(collections.Counter)  # leaf method -> first non-JDK frame above it
    for ev in samples_ev:
        frames = re.findall(r"^\s+([\w$.]+)\([^)]*\)\s+line:", ev, re.M)
        if not frames:
            continue
        total += 1
        leaf[frames[0]] += 1
        up = next((f for f in frames[1:] if not f.startswith(("java.", "jdk.", "sun."))), None)
        if up:
            callers[frames[0]][up] += 1
        group = "other"
        for f in frames:
            group = next((g for prefix, g in group_names if f.startswith(prefix)), "other")
            if group != "other":
                break
        groups[group] += 1
    if not total:
        return
    prof_run = load("drover-profiled.json")
    w("### %s (JFR, %d s of one more Drover ingest run like the rounds above, %s samples)" % (
        title, prof_run["windowSeconds"] if prof_run else 0, n(total)))
    if prof_run:
        w("That run, with JFR recording: %s msg/s, PUBACK p50 %s, p99 %s." % (
            n(prof_run["throughputPerSecond"]), ms(prof_run["pubackLatencyMs"]["p50"]), ms(prof_run["pubackLatencyMs"]["p99"])))
        w("")
    w("Samples by the innermost %s on the stack: " % what + ", ".join(
        "%s %d %%" % (g, round(c * 100 / total)) for g, c in groups.most_common()))
    w("")
    threads = collections.Counter()
    for ev in events(jfr_file, "jdk.ThreadCPULoad"):
        u, sy = re.search(r"user = ([\d.]+)%", ev), re.search(r"system = ([\d.]+)%", ev)
        t = re.search(r'eventThread = "([^"]+)"', ev)
        if u and sy and t:
            threads[re.sub(r"\d+", "N", t.group(1))] += float(u.group(1)) + float(sy.group(1))
    if threads:
        tt = sum(threads.values())
        w("CPU by thread (JFR ThreadCPULoad): " + ", ".join(
            "`%s` %d %%" % (k, round(v * 100 / tt)) for k, v in threads.most_common(8)))
        w("")
    pauses = []
    for ev in events(jfr_file, "jdk.GarbageCollection"):
        m = re.search(r"sumOfPauses = ([\d.]+) (ms|s)", ev)
        if m:
            pauses.append(float(m.group(1)) * (1000 if m.group(2) == "s" else 1))
    if pauses:
        w("GC during the recording: %d collections, pauses %.0f ms in all, longest %.1f ms." % (
            len(pauses), sum(pauses), max(pauses)))
        w("")
    short = lambda m: m.split(".")[-2] + "." + m.split(".")[-1] if m.count(".") else m
    w("Top methods (leaf frame): " + "; ".join("`%s` %d %%" % (short(m), round(c * 100 / total))
                                               for m, c in leaf.most_common(8)))
    w("")
    w("Who calls the top three (first non-JDK frame above the leaf, share of that leaf's samples): " + "; ".join(
        "`%s` ← %s" % (short(m), ", ".join("`%s` %d %%" % (short(f), round(k * 100 / c)) for f, k in callers[m].most_common(2))
                      if callers[m] else "JDK only") for m, c in leaf.most_common(3)))
    w("")


profile(os.path.join(run, "node.jfr"), "7. Where the node's CPU went", "non-JDK library", NODE_GROUPS)
profile(os.path.join(run, "cassandra.jfr"), "7b. Where Cassandra's CPU went (the same run)", "Cassandra subsystem",
        CASSANDRA_GROUPS)

# ---------------------------------------------------------------------------------------------- targets
w("### Targets (issues 5 and 13)")
w("| target | measured | |")
w("| --- | --- | --- |")
if ratios and tputs["mosquitto"]:
    r = mean(tputs["drover"]) / mean(tputs["mosquitto"])
    w("| durable QoS 1 ingest ≥ 0.60 × raw Mosquitto QoS 1 | %.2f (mean / mean of %d rounds) | %s |" % (r, len(ratios), "met" if r >= 0.6 else "missed"))
if per_msg["drover"]:
    nu, cu = mean([x[0] for x in per_msg["drover"]]), mean([x[1] for x in per_msg["drover"]])
    w("| node CPU ≤ 30 µs and Cassandra CPU ≤ 30 µs per acknowledged message | node %.0f µs, Cassandra %.0f µs | %s |" % (
        nu, cu, "met" if nu <= 30 and cu <= 30 else "missed"))
if per:
    w("| ~19k connections at ≤ 20 KB each | %s connected; live heap %.1f KB, RSS ≤ %.1f KB a connection | %s |" % (
        n(conn["connected"]), per[0], per[1], "met" if per[1] <= 20 and conn["connected"] >= 18000 else "missed"))
if ws and ws.get("publishToWebSocketMs"):
    p = ws["publishToWebSocketMs"]["p99"]
    w("| publish → WebSocket p99 ≤ 50 ms at half the max rate | %s | %s |" % (ms(p), "met" if p <= 50 else "missed"))
    pa = ws["pubackLatencyMs"]["p99"]
    w("| PUBACK p99 ≤ 100 ms at half the max rate | %s | %s |" % (ms(pa), "met" if pa <= 100 else "missed"))
if sr:
    w("| shadow GET ≥ 5,000 req/s, p99 ≤ 10 ms (issue 13; 20 ms in issue 5) | %s req/s, p99 %d ms | %s |" % (
        n(sr["rps"]), sr["p99"], "met" if sr["rps"] >= 5000 and sr["p99"] <= 10 else "missed"))
if writer_ratios:
    w("| writer rows/s vs raw driver rows/s (reported) | %s | |" % ", ".join("%.2f" % x for x in writer_ratios))
w("")
w(END)

section = "\n".join(out) + "\n"
text = open(doc).read() if os.path.exists(doc) else "# Measurements\n\n"
if BEGIN in text and END in text:
    text = text[:text.index(BEGIN)] + section.rstrip("\n") + text[text.index(END) + len(END):]
else:
    at = text.find("\n## ")
    text = (text[:at + 1] + section + "\n" + text[at + 1:]) if at >= 0 else text + "\n" + section
open(doc, "w").write(text)
print(section)
