#!/usr/bin/env bash
# Numbers for README "Fleet scan" (issue 15). Not a test; run by hand:
#   bench/fleet-scan.sh [WORKDIR]        (default: a fresh directory under /tmp)
# SMALL=1000 images of 4 MiB; BIG=20 images of 1 GiB (fully written, random data); SPARK=1 adds
# the Spark local[2] runs (first use builds the spark module and fetches Spark: run once before).
# Prints one line per measurement: what, seconds, and images/s or GB/s.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
Q=$PWD/qcow2
W=${1:-$(mktemp -d /tmp/fleet-bench.XXXXXX)}
SMALL=${SMALL:-1000} BIG=${BIG:-20} BIG_SIZE=${BIG_SIZE:-1G} SPARK=${SPARK:-1}
mkdir -p "$W/small" "$W/big"

timeit() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"; }
rate() { awk "BEGIN { printf \"%.1f\", $1 / $2 }"; }

# --- 1,000 small images: a mix of clean, leaky-free data images made by copying a template
if [[ ! -f $W/small/img-0.qcow2 ]]; then
    qemu-img create -q -f qcow2 "$W/t.qcow2" 4M
    qemu-io -c 'write -q -P 0x5a 0 1M' -c 'write -q -P 0xa5 3M 64k' "$W/t.qcow2" >/dev/null
    for ((i = 0; i < SMALL; i++)); do cp "$W/t.qcow2" "$W/small/img-$i.qcow2"; done
fi
"$Q" --version >/dev/null   # build outside the timing

t=$(timeit "$Q" scan --output=json "$W/small"); echo "qcow2 scan, $SMALL small images: ${t}s, $(rate "$SMALL" "$t") images/s"
t=$(timeit bash -c "for f in '$W'/small/*.qcow2; do qemu-img check --output=json \"\$f\"; done")
echo "qemu-img check loop, $SMALL small images: ${t}s, $(rate "$SMALL" "$t") images/s"
t=$(timeit bash -c "for f in '$W'/small/*.qcow2; do '$Q' check --output=json \"\$f\"; done")
echo "./qcow2 check loop, $SMALL small images: ${t}s, $(rate "$SMALL" "$t") images/s"

# --- 20 images of 1 GiB, full of data: digests vs sha256sum of the raw exports (the floor)
if [[ ! -f $W/big/big-0.qcow2 ]]; then
    head -c "$(numfmt --from=iec "$BIG_SIZE")" /dev/urandom >"$W/big.raw"
    qemu-img convert -O qcow2 "$W/big.raw" "$W/big/big-0.qcow2"
    for ((i = 1; i < BIG; i++)); do cp "$W/big/big-0.qcow2" "$W/big/big-$i.qcow2"; done
    rm -f "$W/big.raw"
fi
bytes=$(( BIG * $(numfmt --from=iec "$BIG_SIZE") ))
gbs() { awk "BEGIN { printf \"%.2f\", $bytes / $1 / 1e9 }"; }
t=$(timeit "$Q" scan --output=json --hash=sha256 "$W/big"); echo "qcow2 scan --hash=sha256, $BIG x $BIG_SIZE: ${t}s, $(gbs "$t") GB/s"
t=$(timeit bash -c "for f in '$W'/big/*.qcow2; do qemu-img convert -O raw \"\$f\" '$W/x.raw' && sha256sum '$W/x.raw'; rm -f '$W/x.raw'; done")
echo "qemu-img convert -O raw + sha256sum, $BIG x $BIG_SIZE: ${t}s, $(gbs "$t") GB/s"
raw=$W/big-0.raw; qemu-img convert -O raw "$W/big/big-0.qcow2" "$raw"
t=$(timeit bash -c "for ((i = 0; i < $BIG; i++)); do sha256sum '$raw'; done")
echo "sha256sum of a raw export alone (floor), $BIG x $BIG_SIZE: ${t}s, $(gbs "$t") GB/s"
rm -f "$raw"

if [[ $SPARK == 1 ]]; then
    t=$(timeit "$Q" scan --spark='local[2]' --output=json "$W/small"); echo "qcow2 scan --spark=local[2], $SMALL small images: ${t}s, $(rate "$SMALL" "$t") images/s"
    t=$(timeit "$Q" scan --spark='local[2]' --output=json --hash=sha256 "$W/big"); echo "qcow2 scan --spark=local[2] --hash=sha256, $BIG x $BIG_SIZE: ${t}s, $(gbs "$t") GB/s"
fi
echo "work directory: $W (delete it when done)"
