#!/usr/bin/env bash
# Benchmark harness: runs our `qcow2` and `qemu-img` on the same images in one run and prints
# wall-clock times (whole process, JVM start included) and the ratio qemu-img / qcow2
# (>= 1.0 means we are at least as fast). Not a test: run it by hand.
#
#   bench/run.sh [WORKDIR]        (default WORKDIR: /tmp/qcow2-bench, reused between runs)
#
# Environment: BENCH_GIB (size of the allocated image and of the write benchmarks' images,
# default 4), BENCH_MIX_GIB (size of the mixed raw image converted to qcow2, default 2),
# BENCH_REPEAT (runs per measurement; the ratio is of the fastest runs, the median is shown
# too; default 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QCOW2="$ROOT/qcow2"
WORK="${1:-/tmp/qcow2-bench}"
GIB="${BENCH_GIB:-4}"
REPEAT="${BENCH_REPEAT:-3}"
MIX_GIB="${BENCH_MIX_GIB:-2}"
command -v qemu-img >/dev/null || { echo "bench: qemu-img not found (apt-get install -y qemu-utils)" >&2; exit 1; }
mkdir -p "$WORK"
cd "$WORK"

"$QCOW2" --version >/dev/null   # build the tool (and its CDS archive) before timing anything

# Runs a command BENCH_REPEAT times (stdout discarded), after the setup command SETUP (eval'ed,
# untimed; $TOOL names the tool being measured, qemu or ours) each time. Sets MIN and MED (wall
# seconds, whole process) and RSS (peak KiB of the last run, from /usr/bin/time when installed).
measure() {
  local setup="$1"; shift
  local times=()
  for _ in $(seq "$REPEAT"); do
    eval "$setup"
    local t0 t1
    t0=$(date +%s%N)
    if [[ -x /usr/bin/time ]]; then /usr/bin/time -f "%M" -o rss.txt "$@" >/dev/null; else "$@" >/dev/null; fi
    t1=$(date +%s%N)
    times+=($((t1 - t0)))
  done
  read -r MIN MED < <(printf "%s\n" "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f %.3f\n", a[1] / 1e9, a[int((NR + 1) / 2)] / 1e9 }')
  RSS=$([[ -f rss.txt ]] && tail -1 rss.txt || echo 0)
}

# best-of-N wall time in seconds of a command (stdout discarded)
best() {
  measure "" "$@"
  echo "$MIN"
}

row() { # name qemu_seconds ours_seconds
  awk -v n="$1" -v q="$2" -v o="$3" 'BEGIN { printf "%-44s %10.3f %10.3f %8.2f\n", n, q, o, q / o }'
}

# name setup qemu-command... -- our-command...: one row with min and median of both, the ratio
# of the minimums and of the medians, and both tools' peak RSS
pair() {
  local name="$1" setup="$2"; shift 2
  local q=() o=()
  while [[ "$1" != "--" ]]; do q+=("$1"); shift; done
  shift
  o=("$@")
  TOOL=qemu measure "$setup" "${q[@]}"; local qmin=$MIN qmed=$MED qrss=$RSS
  TOOL=ours measure "$setup" "${o[@]}"; local omin=$MIN omed=$MED orss=$RSS
  awk -v n="$name" -v q="$qmin" -v o="$omin" -v qm="$qmed" -v om="$omed" -v qr="$qrss" -v orr="$orss" \
    'BEGIN { printf "%-44s %10.3f %10.3f %8.2f   median %7.3f %7.3f %6.2f   RSS MiB %5d %5d\n", n, q, o, q / o, qm, om, qm / om, qr / 1024, orr / 1024 }'
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

if [[ ! -f mixed.raw ]]; then
  echo "creating mixed.raw: ${MIX_GIB} GiB in 64 MiB runs: compressible (data.raw), zeros, random, compressible" >&2
  for i in $(seq 0 $((MIX_GIB * 16 - 1))); do
    case $((i % 4)) in
      1) head -c 64M /dev/zero ;;
      2) head -c 64M /dev/urandom ;;
      *) dd if=data.raw bs=1M skip=$(((i * 64) % 1024)) count=64 status=none ;;
    esac
  done > mixed.raw
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

# --- write side: each run starts from a new target -----------------------------------------
pair "convert -O qcow2 (${MIX_GIB} GiB mixed raw)" 'rm -f out-$TOOL.qcow2' \
  qemu-img convert -O qcow2 mixed.raw out-qemu.qcow2 -- "$QCOW2" convert -O qcow2 mixed.raw out-ours.qcow2
qemu-img check -q out-ours.qcow2 && qemu-img compare -q out-qemu.qcow2 out-ours.qcow2 \
  || { echo "bench: convert -O qcow2 of mixed.raw: outputs differ!" >&2; exit 1; }

pair "convert -c -O qcow2 (${MIX_GIB} GiB mixed raw)" 'rm -f out-$TOOL.qcow2' \
  qemu-img convert -c -O qcow2 mixed.raw out-qemu.qcow2 -- "$QCOW2" convert -c -O qcow2 mixed.raw out-ours.qcow2
qemu-img check -q out-ours.qcow2 && qemu-img compare -q out-qemu.qcow2 out-ours.qcow2 \
  || { echo "bench: convert -c -O qcow2 of mixed.raw: outputs differ!" >&2; exit 1; }
rm -f out-qemu.qcow2 out-ours.qcow2

# bench -w writes the pattern byte; both tools get a new empty image of the same size each run
NEW_IMAGES='rm -f w-$TOOL.qcow2; qemu-img create -q -f qcow2 w-$TOOL.qcow2 '"${GIB}G"
pair "bench -w -s 64k (${GIB} GiB sequential)" "$NEW_IMAGES" \
  qemu-img bench -w -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k --pattern=0x5a w-qemu.qcow2 -- \
  "$QCOW2" bench -w -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k --pattern=0x5a w-ours.qcow2
qemu-img check -q w-ours.qcow2 && qemu-img compare -q w-qemu.qcow2 w-ours.qcow2 \
  || { echo "bench: bench -w -s 64k: images differ!" >&2; exit 1; }

# "random" 4 KiB writes: qemu-img bench has no random mode; a step of 7919 * 4 KiB (prime
# multiple, wrapping modulo the image size) scatters the requests over a new sparse image
RANDOM_COUNT=100000
RANDOM_STEP=$((4096 * 7919))
pair "bench -w -s 4k -S 7919*4k (${RANDOM_COUNT} scattered)" "$NEW_IMAGES" \
  qemu-img bench -w -f qcow2 -c "$RANDOM_COUNT" -d 64 -s 4k -S "$RANDOM_STEP" --pattern=0x5a w-qemu.qcow2 -- \
  "$QCOW2" bench -w -f qcow2 -c "$RANDOM_COUNT" -d 64 -s 4k -S "$RANDOM_STEP" --pattern=0x5a w-ours.qcow2
qemu-img check -q w-ours.qcow2 && qemu-img compare -q w-qemu.qcow2 w-ours.qcow2 \
  || { echo "bench: bench -w -s 4k: images differ!" >&2; exit 1; }
rm -f w-qemu.qcow2 w-ours.qcow2

q=$(best sh -c 'qemu-img check million.qcow2; true')
o=$(best sh -c "'$QCOW2' check million.qcow2; true")
row "check (1.2 M allocated 512 B clusters)" "$q" "$o"

# Peak memory of our check (bounded: L2 tables are streamed; refcounts in a compact array)
if command -v /usr/bin/time >/dev/null; then
  /usr/bin/time -f "%M" -o rss.txt "$QCOW2" check million.qcow2 >/dev/null 2>&1 || true
  echo "peak RSS of qcow2 check on million.qcow2: $(( $(tail -1 rss.txt) / 1024 )) MiB"
fi
