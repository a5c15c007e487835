#!/usr/bin/env bash
# Telemetry writer values/s next to raw Cassandra driver writes of the same rows (telemetry_msg), and query latency for a
# 24 h range raw vs from rollups — one run, against the Cassandra on 127.0.0.1:${1:-9042} (start it with
# ./drover cassandra start). Uses its own keyspace drover_bench. Internal benchmark (it drives the
# telemetry-streams classes directly), so it lives with their tests and is only launched from here.
#   load-tests/telemetry-bench.sh [cassandra-port=9042] [seconds-per-phase=20]
set -euo pipefail
cd "$(dirname "$0")/.."
exec load-tests/internal-bench.sh io.drover.telemetry.bench.TelemetryBench "$@"
