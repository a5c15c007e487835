#!/usr/bin/env bash
# Cassandra CPU per message of 4 values for two storage layouts, raw driver only (docs/telemetry.md, issue 13):
# 4 rows clustered by (key, ts), as telemetry_raw stores them, next to 1 row per message with a map, same run,
# alternating. Against the Cassandra on 127.0.0.1:${1:-9042} (./drover cassandra start), keyspace
# drover_layout_bench. Internal benchmark (lives with the telemetry-streams tests, like telemetry-bench.sh).
#   load-tests/row-layout-bench.sh [cassandra-port=9042] [seconds=20] [rounds=2] [layouts=rows4,row1]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-9042}
pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$pid" ] || { echo "row-layout-bench: nothing listens on $port (./drover cassandra start)" >&2; exit 1; }
exec load-tests/internal-bench.sh io.drover.telemetry.bench.RowLayoutBench "$pid" "${2:-20}" "${3:-2}" "${4:-rows4,row1}" "$port"
