# Sourced by bench.sh, rules-bench.sh and smoke.sh: the one dev-mode node of such a script, on the ports, data folder
# and Cassandra its DROVER_* variables name (the caller sets them).
# start_dev_node NAME LOG [SECONDS]: ./drover dev in the background (its pid in $node_pid), waits for the banner.
start_dev_node() {
  local name=$1 logfile=$2 secs=${3:-240}
  ./drover dev > "$logfile" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 "$secs"); do
    grep -q "Drover is running" "$logfile" && return 0
    kill -0 "$node_pid" 2>/dev/null || { tail -50 "$logfile"; echo "$name: Drover did not start" >&2; exit 1; }
    sleep 1
  done
  tail -50 "$logfile"; echo "$name: Drover did not start in time" >&2; exit 1
}
# stop_dev_node CASSANDRA_PORT: SIGTERM to the node started above (SIGKILL after 30 s), then its Cassandra.
stop_dev_node() {
  if [ -n "${node_pid:-}" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid"; for _ in $(seq 1 30); do kill -0 "$node_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$node_pid" 2>/dev/null || true
  fi
  ./drover cassandra stop --data "$DROVER_DEV_CASSANDRA_DIR" --port "$1" >/dev/null 2>&1 || true
  # ./drover builds first when sources changed meanwhile, and a build can fail: then stop by the pid file
  local pidfile="$DROVER_DEV_CASSANDRA_DIR/cassandra.pid" pid
  if [ -f "$pidfile" ] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
