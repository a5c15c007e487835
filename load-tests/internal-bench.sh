#!/usr/bin/env bash
# Runs one internal benchmark class (it lives with the telemetry-streams tests, since it drives their classes or
# only the Cassandra driver): builds what is missing, keeps the test classpath in
# telemetry-streams/target/bench-classpath.txt. Used by telemetry-bench.sh and row-layout-bench.sh.
#   load-tests/internal-bench.sh CLASS [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
cp=telemetry-streams/target/bench-classpath.txt
if [ ! -f "$cp" ] || [ -n "$(find telemetry-streams/src persistence/src -newer "$cp" -name '*.java' | head -1)" ]; then
  mvn -q -B -pl telemetry-streams -am install -DskipTests
  mvn -q -B -pl telemetry-streams dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi
class=$1; shift
exec java -Xmx1g -cp "telemetry-streams/target/test-classes:telemetry-streams/target/classes:$(cat "$cp")" "$class" "$@"
