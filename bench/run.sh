#!/usr/bin/env bash
# Benchmark harness: runs our `qcow2` and `qemu-img` on the same images in one run and prints
# wall-clock times (whole process, JVM start included) and the ratio qemu-img / qcow2
# (>= 1.0 means we are at least as fast). Not a test: run it by hand.
#
#   bench/run.sh [WORKDIR]        (default WORKDIR: /tmp/qcow2-bench, reused between runs)
#
# Environment: BENCH_GIB (size of the allocated image, default 4), BENCH_REPEAT (runs per
# measurement, the best is kept; default 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QCOW2="$ROOT/qcow2"
WORK="${1:-/tmp/qcow2-bench}"
GIB="${BENCH_GIB:-4}"
REPEAT="${BENCH_REPEAT:-3}"
command -v qemu-img >/dev/null || { echo "bench: qemu-img not found (apt-get install -y qemu-utils)" >&2; exit 1; }
mkdir -p "$WORK"
cd "$WORK"

"$QCOW2" --version >/dev/null   # build the tool (and its CDS archive) before timing anything

# best-of-N wall time in seconds of a command (stdout discarded)
best() {
  local best_ns=""
  for _ in $(seq "$REPEAT"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    local ns=$((t1 - t0))
    if [[ -z "$best_ns" || $ns -lt $best_ns ]]; then best_ns=$ns; fi
  done
  awk -v ns="$best_ns" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

row() { # name qemu_seconds ours_seconds
  awk -v n="$1" -v q="$2" -v o="$3" 'BEGIN { printf "%-44s %10.3f %10.3f %8.2f\n", n, q, o, q / o }'
}

# --- fixtures (made once) ---------------------------------------------------------------
if [[ ! -f alloc.qcow2 ]]; then
  echo "creating alloc.qcow2: ${GIB} GiB fully allocated, 64 KiB clusters" >&2
  { yes 'qcow2-toolkit benchmark data' || true; } | head -c "$((GIB << 30))" > alloc.raw
  qemu-img convert -O qcow2 alloc.raw alloc.qcow2
  rm -f alloc.raw
fi
if [[ ! -f data.raw ]]; then
  echo "creating data.raw: 1 GiB of real-world-ish data (the JDK's files, repeated)" >&2
  find /usr/lib/jvm -type f -size +64k 2>/dev/null | head -200 | xargs cat > seed.bin
  : > data.raw
  while [[ $(stat -c %s data.raw) -lt $((1 << 30)) ]]; do cat seed.bin >> data.raw; done
  truncate -s 1G data.raw
  rm -f seed.bin
fi
if [[ ! -f zlib.qcow2 ]]; then
  echo "creating zlib.qcow2: 1 GiB of compressible data, qemu-img convert -c" >&2
  qemu-img convert -c -O qcow2 data.raw zlib.qcow2
fi
if [[ ! -f million.qcow2 ]]; then
  echo "creating million.qcow2: 512-byte clusters, 600 MiB allocated (1.2 M clusters)" >&2
  head -c $((600 << 20)) /dev/urandom > m.raw
  qemu-img convert -O qcow2 -o cluster_size=512 m.raw million.qcow2
  rm -f m.raw
fi

SIZE=$((GIB << 30))
SEQ_COUNT=$((SIZE / 65536))
STRIDE_COUNT=200000

printf "%-44s %10s %10s %8s\n" "benchmark" "qemu-img" "qcow2" "ratio"
q=$(best qemu-img bench -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k alloc.qcow2)
o=$(best "$QCOW2" bench -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k alloc.qcow2)
row "bench -s 64k (${GIB} GiB sequential)" "$q" "$o"

q=$(best qemu-img bench -f qcow2 -c "$STRIDE_COUNT" -d 64 -s 4k -S 64k alloc.qcow2)
o=$(best "$QCOW2" bench -f qcow2 -c "$STRIDE_COUNT" -d 64 -s 4k -S 64k alloc.qcow2)
row "bench -s 4k -S 64k (${STRIDE_COUNT} reads)" "$q" "$o"

q=$(best qemu-img convert -O raw zlib.qcow2 out-qemu.raw)
o=$(best "$QCOW2" convert -O raw zlib.qcow2 out-ours.raw)
cmp -s out-qemu.raw out-ours.raw || { echo "bench: convert outputs differ!" >&2; exit 1; }
rm -f out-qemu.raw out-ours.raw
row "convert -O raw (1 GiB zlib-compressed)" "$q" "$o"

q=$(best qemu-img convert -O qcow2 data.raw out-qemu.qcow2)
o=$(best "$QCOW2" convert -O qcow2 data.raw out-ours.qcow2)
qemu-img compare -q out-qemu.qcow2 out-ours.qcow2 || { echo "bench: convert -O qcow2 outputs differ!" >&2; exit 1; }
rm -f out-qemu.qcow2 out-ours.qcow2
row "convert -O qcow2 (1 GiB raw)" "$q" "$o"

q=$(best qemu-img convert -c -O qcow2 data.raw out-qemu.qcow2)
o=$(best "$QCOW2" convert -c -O qcow2 data.raw out-ours.qcow2)
qemu-img compare -q out-qemu.qcow2 out-ours.qcow2 || { echo "bench: convert -c -O qcow2 outputs differ!" >&2; exit 1; }
rm -f out-qemu.qcow2 out-ours.qcow2
row "convert -c -O qcow2 (1 GiB raw)" "$q" "$o"

q=$(best sh -c 'qemu-img check million.qcow2; true')
o=$(best sh -c "'$QCOW2' check million.qcow2; true")
row "check (1.2 M allocated 512 B clusters)" "$q" "$o"

# Peak memory of our check (bounded: L2 tables are streamed; refcounts in a compact array)
if command -v /usr/bin/time >/dev/null; then
  /usr/bin/time -f "%M" -o rss.txt "$QCOW2" check million.qcow2 >/dev/null 2>&1 || true
  echo "peak RSS of qcow2 check on million.qcow2: $(( $(tail -1 rss.txt) / 1024 )) MiB"
fi
