#!/usr/bin/env bash
# Benchmark harness: runs our `qcow2` and `qemu-img` on the same images in one run and prints
# wall-clock times (whole process, JVM start included) and the ratio qemu-img / qcow2
# (>= 1.0 means we are at least as fast). Not a test: run it by hand.
#
#   bench/run.sh [WORKDIR]        (default WORKDIR: /tmp/qcow2-bench, reused between runs)
#
# Environment: BENCH_GIB (size of the allocated image, of the write benchmarks' images and of
# the large mixed raw image converted to qcow2, default 4), BENCH_MIX_GIB (size of the mixed
# raw image converted with and without -c, default 2), BENCH_REPEAT (runs per measurement; the
# ratio is of the fastest runs, the median is shown too; default 3), BENCH_ONLY (a regular
# expression: only rows whose name matches run, e.g. BENCH_ONLY=LUKS).
#
# Every row runs the two tools alternately (qemu-img, qcow2, qemu-img, ...), so a drift of the
# machine's state during the run (page cache writeback, memory returned to a hypervisor) falls
# on both alike. Rows that write start each run with a sync (untimed): otherwise the kernel is
# still writing back the previous run's gigabytes while the next one runs, taking a core from
# whichever tool uses both.
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

# One timed run of a command (stdout discarded): sets T (wall nanoseconds, whole process) and
# RSS (peak KiB, from /usr/bin/time when installed, else 0).
run_once() {
  local t0 t1
  t0=$(date +%s%N)
  if [[ -x /usr/bin/time ]]; then /usr/bin/time -f "%M" -o rss.txt "$@" >/dev/null; else "$@" >/dev/null; fi
  t1=$(date +%s%N)
  T=$((t1 - t0))
  RSS=$([[ -f rss.txt ]] && tail -1 rss.txt || echo 0)
}

# min and median in seconds of the nanosecond times given as arguments
stats() { printf "%s\n" "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f %.3f\n", a[1] / 1e9, a[int((NR + 1) / 2)] / 1e9 }'; }

# pair NAME SETUP qemu-command... -- our-command...: BENCH_REPEAT rounds of qemu-img then ours,
# each run after the setup command SETUP (eval'ed, untimed; $TOOL names the tool, qemu or
# ours); one row with the min and median of both, the ratio of the minimums and of the
# medians, and both tools' peak RSS (of their last run).
selected() { [[ -z "${BENCH_ONLY:-}" || "$1" =~ $BENCH_ONLY ]]; }

pair() {
  local name="$1" setup="$2"; shift 2
  selected "$name" || return 0
  local q=() o=() qt=() ot=() qrss=0 orss=0
  while [[ "$1" != "--" ]]; do q+=("$1"); shift; done
  shift
  o=("$@")
  for _ in $(seq "$REPEAT"); do
    TOOL=qemu; eval "$setup"; run_once "${q[@]}"; qt+=("$T"); qrss=$RSS
    TOOL=ours; eval "$setup"; run_once "${o[@]}"; ot+=("$T"); orss=$RSS
  done
  local qmin qmed omin omed
  read -r qmin qmed < <(stats "${qt[@]}")
  read -r omin omed < <(stats "${ot[@]}")
  awk -v n="$name" -v q="$qmin" -v o="$omin" -v qm="$qmed" -v om="$omed" -v qr="$qrss" -v orr="$orss" \
    'BEGIN { printf "%-48s %8.3f %8.3f %6.2f   median %7.3f %7.3f %6.2f   RSS MiB %5d %5d\n", n, q, o, q / o, qm, om, qm / om, qr / 1024, orr / 1024 }'
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

# mixed FILE GIB: GIB GiB in 64 MiB runs: compressible (data.raw), zeros, random, compressible
mixed() {
  [[ -f "$1" && $(stat -c %s "$1") -eq $(($2 << 30)) ]] && return
  echo "creating $1: $2 GiB in 64 MiB runs: compressible (data.raw), zeros, random, compressible" >&2
  for i in $(seq 0 $(($2 * 16 - 1))); do
    case $((i % 4)) in
      1) head -c 64M /dev/zero ;;
      2) head -c 64M /dev/urandom ;;
      *) dd if=data.raw bs=1M skip=$(((i * 64) % 1024)) count=64 status=none ;;
    esac
  done > "$1"
}
mixed mixed.raw "$MIX_GIB"
mixed mixed-large.raw "$GIB"
# LUKS: the guest of data.raw in qemu's default cipher (aes-256-xts-plain64), PBKDF2 kept short so
# the rows time the data path; luks-slow.qcow2 has qemu's default iter-time (2 s) to time the unlock
printf 'bench-passphrase' > luks.pass
if [[ ! -f luks.qcow2 ]]; then
  echo "creating luks.qcow2: data.raw in LUKS aes-256-xts-plain64 (iter-time 10 ms)" >&2
  qemu-img convert -O qcow2 --object secret,id=s0,file=luks.pass \
    -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 data.raw luks.qcow2
fi
if [[ ! -f luks-slow.qcow2 ]]; then
  echo "creating luks-slow.qcow2: 64 MiB LUKS with qemu's default PBKDF2 iter-time (2 s)" >&2
  qemu-img create -q -f qcow2 --object secret,id=s0,file=luks.pass -o encrypt.format=luks,encrypt.key-secret=s0 luks-slow.qcow2 64M
fi
if [[ ! -f small.qcow2 ]]; then
  qemu-img create -q -f qcow2 small.qcow2 64M
fi
# zstd: 1 GiB in 64 MiB runs, half compressible (data.raw), a quarter random, a quarter zeros
if [[ ! -f zstd.qcow2 ]]; then
  echo "creating zstd.qcow2: 1 GiB, half compressible, a quarter random, a quarter zeros, zstd" >&2
  for i in $(seq 0 15); do
    case $((i % 4)) in
      0|2) dd if=data.raw bs=1M skip=$((i * 64)) count=64 status=none ;;
      1) head -c 64M /dev/urandom ;;
      3) head -c 64M /dev/zero ;;
    esac
  done > zmix.raw
  qemu-img convert -c -O qcow2 -o compression_type=zstd zmix.raw zstd.qcow2
  # two separately written plain copies of the same guest, for compare
  qemu-img convert -O qcow2 zmix.raw cmp-a.qcow2
  qemu-img convert -O qcow2 -o cluster_size=131072 zmix.raw cmp-b.qcow2
  rm -f zmix.raw
fi
# a 3-deep backing chain (each layer writes its own megabytes)
if [[ ! -f chain3.qcow2 ]]; then
  qemu-img create -q -f qcow2 chain1.qcow2 1G
  qemu-io -c 'write -q -P 1 0 64M' chain1.qcow2
  qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 chain2.qcow2
  qemu-io -c 'write -q -P 2 32M 64M' chain2.qcow2
  qemu-img create -q -f qcow2 -b chain2.qcow2 -F qcow2 chain3.qcow2
  qemu-io -c 'write -q -P 3 512M 64M' chain3.qcow2
fi
# zero clusters (QCOW_OFLAG_ZERO) over data, for the libqcow byte check
if [[ ! -f zeroclusters.qcow2 ]]; then
  qemu-img create -q -f qcow2 zeroclusters.qcow2 64M
  qemu-io -c 'write -q -P 0x5a 0 16M' -c 'write -q -z 4M 4M' zeroclusters.qcow2
fi
# 10 GiB with two internal snapshots: 2 GiB written in 16 runs, s1, 1 GiB more over it, s2
if [[ ! -f snaps10g.qcow2 ]]; then
  echo "creating snaps10g.qcow2: 10 GiB, 3 GiB written, two internal snapshots" >&2
  qemu-img create -q -f qcow2 snaps10g.qcow2 10G
  cmds=(); for i in $(seq 0 15); do cmds+=(-c "write -q -P $((i + 1)) $((i * 640))M 128M"); done
  qemu-io "${cmds[@]}" snaps10g.qcow2
  qemu-img snapshot -c s1 snaps10g.qcow2
  cmds=(); for i in $(seq 0 7); do cmds+=(-c "write -q -P $((i + 101)) $((i * 1280 + 64))M 128M"); done
  qemu-io "${cmds[@]}" snaps10g.qcow2
  qemu-img snapshot -c s2 snaps10g.qcow2
fi

SIZE=$((GIB << 30))
SEQ_COUNT=$((SIZE / 65536))
STRIDE_COUNT=200000

# Free page reporting (virtio-balloon) hands memory the guest frees back to the hypervisor;
# touching it again costs a host fault per page, so write-heavy runs vary several-fold with how
# much of the previous run's output the hypervisor has taken back meanwhile.
order=/sys/module/page_reporting/parameters/page_reporting_order
if [[ -r $order && $(cat $order) -lt 11 ]]; then
  echo "note: free page reporting is on ($order = $(cat $order)): write rows will be noisy;" \
       "as root, 'echo 11 > $order' pauses it for the run (restore the old value afterwards)" >&2
fi

printf "%-48s %8s %8s %6s   %-22s   %s\n" "benchmark (min of $REPEAT, seconds)" "qemu-img" "qcow2" "ratio" "median q / o / ratio" "peak RSS q / o"

pair "start-up: info of a small image" '' \
  qemu-img info small.qcow2 -- "$QCOW2" info small.qcow2

pair "bench -s 64k (${GIB} GiB sequential)" '' \
  qemu-img bench -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k alloc.qcow2 -- \
  "$QCOW2" bench -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k alloc.qcow2

pair "bench -c $((SIZE >> 22)) -s 4M -d 1 (${GIB} GiB in 4 MiB reads)" '' \
  qemu-img bench -f qcow2 -c "$((SIZE >> 22))" -d 1 -s 4M alloc.qcow2 -- \
  "$QCOW2" bench -f qcow2 -c "$((SIZE >> 22))" -d 1 -s 4M alloc.qcow2

pair "bench -s 4k -S 64k (${STRIDE_COUNT} reads)" '' \
  qemu-img bench -f qcow2 -c "$STRIDE_COUNT" -d 64 -s 4k -S 64k alloc.qcow2 -- \
  "$QCOW2" bench -f qcow2 -c "$STRIDE_COUNT" -d 64 -s 4k -S 64k alloc.qcow2

pair "convert -O raw (1 GiB zlib-compressed)" 'rm -f out-$TOOL.raw; sync' \
  qemu-img convert -O raw zlib.qcow2 out-qemu.raw -- "$QCOW2" convert -O raw zlib.qcow2 out-ours.raw
if selected "convert -O raw (1 GiB zlib-compressed)"; then
  cmp -s out-qemu.raw out-ours.raw || { echo "bench: convert outputs differ!" >&2; exit 1; }
fi
rm -f out-qemu.raw out-ours.raw

pair "convert -O raw (1 GiB zstd: text, random, zeros)" 'rm -f out-$TOOL.raw; sync' \
  qemu-img convert -O raw zstd.qcow2 out-qemu.raw -- "$QCOW2" convert -O raw zstd.qcow2 out-ours.raw
if selected "convert -O raw (1 GiB zstd: text, random, zeros)"; then
  cmp -s out-qemu.raw out-ours.raw || { echo "bench: zstd convert outputs differ!" >&2; exit 1; }
fi
rm -f out-qemu.raw out-ours.raw

pair "compare (two 1 GiB images, 64k / 128k clusters)" '' \
  qemu-img compare cmp-a.qcow2 cmp-b.qcow2 -- "$QCOW2" compare cmp-a.qcow2 cmp-b.qcow2
pair "map --output=json (1 GiB zstd image)" '' \
  qemu-img map --output=json zstd.qcow2 -- "$QCOW2" map --output=json zstd.qcow2
if selected "map --output=json (1 GiB zstd image)"; then
  # our map prints current QEMU's "compressed" key, which 7.2 lacks (README: Known differences)
  cmp -s <(qemu-img map --output=json zstd.qcow2) <("$QCOW2" map --output=json zstd.qcow2 | sed 's/, "compressed": [a-z]*//') \
    || { echo "bench: map outputs differ!" >&2; exit 1; }
fi
pair "info --backing-chain (3 images)" '' \
  qemu-img info --backing-chain chain3.qcow2 -- "$QCOW2" info --backing-chain chain3.qcow2
pair "check (10 GiB, 3 GiB written, 2 snapshots)" '' \
  qemu-img check snaps10g.qcow2 -- "$QCOW2" check snaps10g.qcow2

# encrypted reads: the same secret syntax for both tools
SECRET=(--object secret,id=s0,file=luks.pass --image-opts)
luks_opts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=s0"; }
pair "convert -O raw (1 GiB LUKS aes-256-xts)" 'rm -f out-$TOOL.raw; sync' \
  qemu-img convert -O raw "${SECRET[@]}" "$(luks_opts luks.qcow2)" out-qemu.raw -- \
  "$QCOW2" convert -O raw "${SECRET[@]}" "$(luks_opts luks.qcow2)" out-ours.raw
if [[ -f out-ours.raw ]]; then
  cmp -s out-qemu.raw out-ours.raw && cmp -s out-ours.raw data.raw || { echo "bench: LUKS convert outputs differ!" >&2; exit 1; }
fi
rm -f out-qemu.raw out-ours.raw
# qemu-img 7.2's bench takes no --object, so the unlock is timed with a convert of a small image
pair "LUKS unlock + convert -O raw of 64 MiB (2 s iter-time)" 'rm -f out-$TOOL.raw' \
  qemu-img convert -O raw "${SECRET[@]}" "$(luks_opts luks-slow.qcow2)" out-qemu.raw -- \
  "$QCOW2" convert -O raw "${SECRET[@]}" "$(luks_opts luks-slow.qcow2)" out-ours.raw
rm -f out-qemu.raw out-ours.raw

# --- write side: each run starts from a new target -----------------------------------------
# convert_pair NAME FLAGS SOURCE: both tools convert SOURCE; ours must pass qemu-img check and
# equal qemu-img's output
convert_pair() {
  local name="$1" flags="$2" src="$3"
  selected "$name" || return 0
  # shellcheck disable=SC2086  # FLAGS is a list of words
  pair "$name" 'rm -f out-$TOOL.qcow2; sync' \
    qemu-img convert $flags -O qcow2 "$src" out-qemu.qcow2 -- "$QCOW2" convert $flags -O qcow2 "$src" out-ours.qcow2
  qemu-img check -q out-ours.qcow2 && qemu-img compare -q out-qemu.qcow2 out-ours.qcow2 \
    || { echo "bench: convert $flags -O qcow2 of $src: outputs differ!" >&2; exit 1; }
  rm -f out-qemu.qcow2 out-ours.qcow2
}
convert_pair "convert -O qcow2 (1 GiB raw)" "" data.raw
convert_pair "convert -O qcow2 (${MIX_GIB} GiB mixed raw)" "" mixed.raw
convert_pair "convert -O qcow2 (${GIB} GiB mixed raw)" "" mixed-large.raw
convert_pair "convert -c -O qcow2 (1 GiB raw)" "-c" data.raw
convert_pair "convert -c -O qcow2 (${MIX_GIB} GiB mixed raw)" "-c" mixed.raw

# bench -w writes the pattern byte; both tools get a new empty image of the same size each run
NEW_IMAGES='rm -f w-$TOOL.qcow2; qemu-img create -q -f qcow2 w-$TOOL.qcow2 '"${GIB}G"'; sync'
pair "bench -w -s 64k (${GIB} GiB sequential)" "$NEW_IMAGES" \
  qemu-img bench -w -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k --pattern=0x5a w-qemu.qcow2 -- \
  "$QCOW2" bench -w -f qcow2 -c "$SEQ_COUNT" -d 64 -s 64k --pattern=0x5a w-ours.qcow2
if selected "bench -w -s 64k (${GIB} GiB sequential)"; then
  qemu-img check -q w-ours.qcow2 && qemu-img compare -q w-qemu.qcow2 w-ours.qcow2 \
    || { echo "bench: bench -w -s 64k: images differ!" >&2; exit 1; }
fi

# "random" 4 KiB writes: qemu-img bench has no random mode; a step of 7919 * 4 KiB (prime
# multiple, wrapping modulo the image size) scatters the requests over a new sparse image
RANDOM_COUNT=100000
RANDOM_STEP=$((4096 * 7919))
pair "bench -w -s 4k -S 7919*4k (${RANDOM_COUNT} scattered)" "$NEW_IMAGES" \
  qemu-img bench -w -f qcow2 -c "$RANDOM_COUNT" -d 64 -s 4k -S "$RANDOM_STEP" --pattern=0x5a w-qemu.qcow2 -- \
  "$QCOW2" bench -w -f qcow2 -c "$RANDOM_COUNT" -d 64 -s 4k -S "$RANDOM_STEP" --pattern=0x5a w-ours.qcow2
if selected "bench -w -s 4k -S 7919*4k (${RANDOM_COUNT} scattered)"; then
  qemu-img check -q w-ours.qcow2 && qemu-img compare -q w-qemu.qcow2 w-ours.qcow2 \
    || { echo "bench: bench -w -s 4k: images differ!" >&2; exit 1; }
fi
rm -f w-qemu.qcow2 w-ours.qcow2

pair "check (1.2 M allocated 512 B clusters)" '' \
  qemu-img check million.qcow2 -- "$QCOW2" check million.qcow2

# --- second peer: libqcow (Debian's python3-libqcow), whole-guest sequential reads in 4 MiB ---
# ratio = libqcow / qcow2. Our side is `bench -d 1 -s 4M` over the whole guest (read and
# discarded, as the libqcow loop does). Whether libqcow's bytes equal qemu-img's is printed per
# image: Debian's libqcow (20201213) refuses some images and reads some differently.
if /usr/bin/python3 -c 'import pyqcow' 2>/dev/null; then
  cat > libqcow-read.py <<'PY'
import sys, pyqcow
f = pyqcow.file(); f.open(sys.argv[1]); size = f.get_media_size(); off = 0
while off < size:
    n = min(4 << 20, size - off); f.read_buffer_at_offset(n, off); off += n
PY
  cat > libqcow-sha.py <<'PY'
import sys, hashlib, pyqcow
f = pyqcow.file(); f.open(sys.argv[1]); size = f.get_media_size(); off = 0; h = hashlib.sha256()
while off < size:
    n = min(4 << 20, size - off); h.update(f.read_buffer_at_offset(n, off)); off += n
print(h.hexdigest())
PY
  printf '\n%-48s %8s %8s %6s   %-22s   %s\n' "libqcow peer (min of $REPEAT, seconds)" "libqcow" "qcow2" "ratio" "median l / o / ratio" "peak RSS l / o"
  for img in alloc.qcow2 zlib.qcow2; do
    bytes=$(qemu-img info --output=json "$img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
    pair "whole-guest read of $img ($((bytes >> 20)) MiB)" '' \
      /usr/bin/python3 libqcow-read.py "$img" -- "$QCOW2" bench -f qcow2 -c "$(((bytes + (4 << 20) - 1) >> 22))" -d 1 -s 4M "$img"
  done
  for img in alloc.qcow2 zlib.qcow2 zstd.qcow2 cmp-a.qcow2 zeroclusters.qcow2 chain3.qcow2; do
    qemu-img convert -O raw "$img" ref.raw && want=$(sha256sum < ref.raw | cut -d' ' -f1) && rm -f ref.raw
    got=$(/usr/bin/python3 libqcow-sha.py "$img" 2>&1 | tail -1) || true
    if [[ $got == "$want" ]]; then echo "libqcow reads $img as qemu-img does"; else echo "libqcow differs from qemu-img on $img: ${got:0:80}"; fi
  done
else
  echo "note: python3-libqcow not installed (apt-get install -y python3-libqcow): libqcow rows skipped" >&2
fi
