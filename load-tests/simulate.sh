#!/usr/bin/env bash
# The MQTT device simulator (load-tests/src/main/java/io/drover/loadtest/sim): a fake fleet against
# dev mode (or any Drover), or against a raw broker as a baseline. --help lists the options.
#   ./drover dev                                   (another terminal)
#   load-tests/simulate.sh --devices 1000 --rate 2000 --duration 30s --ws-devices 100
set -euo pipefail
cd "$(dirname "$0")/.."
cp=load-tests/target/bench-classpath.txt
if [ ! -f "$cp" ] || [ -n "$(find load-tests/src load-tests/pom.xml -newer "$cp" -type f | head -1)" ]; then
  mvn -q -B -pl load-tests install -DskipTests
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec java ${SIM_JAVA_OPTS:--Xmx1g} -cp "load-tests/target/classes:$(cat "$cp")" io.drover.loadtest.sim.DeviceSimulator "$@"
