#!/bin/sh
# Coverage-guided fuzzing campaign for one Jazzer target of core's ImageFuzzTest.
#   scripts/fuzz.sh TARGET SECONDS      e.g. scripts/fuzz.sh check 600
# TARGET is a @FuzzTest method of core/src/test/java/dev/qcow2/fuzz/ImageFuzzTest.java:
#   header openAndRead check map snapshotTable bitmapDirectory repairCopy deflateCluster zstdCluster
#   luksHeader vmstateStream rescue
# Findings (crash-* files) land in core/src/test/resources/dev/qcow2/fuzz/ImageFuzzTestInputs/TARGET/
# and are run by every later `mvn test` as regression inputs. Per input: 10 s deadline
# (-timeout), 2 GiB RSS and 256 MiB single-allocation limits. The corpus Jazzer grows is kept
# in .cifuzz-corpus/ (not committed). Prints Jazzer's final stats: executions and findings.
set -eu
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
cd "$(dirname "$0")/.."
log=$(mktemp)
JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${seconds}s" JAZZER_TIMEOUT=10 JAZZER_RSS_LIMIT_MB=2048 JAZZER_MALLOC_LIMIT_MB=256 mvn -o -q -B test -pl core -Dtest="ImageFuzzTest#$target" -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1 || status=$?
out=core/target/surefire-reports/dev.qcow2.fuzz.ImageFuzzTest-output.txt
grep -h '#[0-9]*.*DONE\|stat::number_of_executed_units\|stat::new_units_added\|== Java Exception\|crash-\|Test unit written\|DONE' "$out" "$log" 2>/dev/null || true
echo "target=$target seconds=$seconds findings=$(ls core/src/test/resources/dev/qcow2/fuzz/ImageFuzzTestInputs/$target | grep -c '^crash-\|^timeout-\|^oom-' || true) mvn-exit=${status:-0}"
exit "${status:-0}"
