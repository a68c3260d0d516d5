#!/usr/bin/env bash
# Start-up of `qcow2 info` against its floors, in one run: qemu-img info, a hello-world JVM with
# the launcher's flags (Java 25, and Java 17 when installed), and ./qcow2 info with each start-up
# cache (aot, cds, none; each rebuilds the launcher's snapshot). Prints fastest and median wall
# seconds of N runs (default 15). Not a test: run it by hand on a quiet machine.
#
#   bench/startup.sh [IMAGE]     (default: a 64 MiB image made with qemu-img in a temp dir)
#   BEFORE=/path/to/older/checkout bench/startup.sh   also times that checkout's ./qcow2 info
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=${N:-15}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
img=${1:-$tmp/x.qcow2}
[[ -f $img ]] || qemu-img create -q -f qcow2 "$img" 64M
source "$ROOT/jdk.sh"
J25=$(find_jdk)/bin/java
FLAGS=(-Xlog:disable -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -XX:-UsePerfData)
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$tmp/Hello.java"
"$(dirname "$J25")/javac" --release 17 -d "$tmp" "$tmp/Hello.java"

row() {   # row NAME COMMAND...: fastest and median wall seconds of N runs
    local name=$1 t0 t1 ts=(); shift
    "$@" >/dev/null 2>&1 || true   # warm-up
    for _ in $(seq "$N"); do t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); ts+=($((t1 - t0))); done
    printf '%-52s %s\n' "$name" "$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "fastest %.3f s  median %.3f s", a[1]/1e9, a[int((NR+1)/2)]/1e9}')"
}
row "qemu-img info" qemu-img info "$img"
row "hello-world JVM, Java 25, launcher flags" "$J25" "${FLAGS[@]}" -cp "$tmp" Hello
j17=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
[[ -x $j17 ]] && row "hello-world JVM, Java 17, launcher flags" "$j17" -Xshare:auto "${FLAGS[@]}" -cp "$tmp" Hello
[[ -n ${BEFORE-} ]] && row "before: $BEFORE/qcow2 info" "$BEFORE/qcow2" info "$img"
for c in aot cds none; do
    QCOW2_CACHE=$c QCOW2_REBUILD=1 "$ROOT/qcow2" --version >/dev/null
    row "qcow2 info (QCOW2_CACHE=$c)" "$ROOT/qcow2" info "$img"
done
QCOW2_REBUILD=1 "$ROOT/qcow2" --version >/dev/null   # back to the default cache
