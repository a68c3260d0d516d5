#!/bin/bash
# Rescue campaign: N ext4 images per scenario (files of random sizes and bytes, mkfs.ext4 -d,
# qemu-img convert; cluster size and compression cycle over the images), one structure zeroed
# per scenario, rescued with `qcow2 rescue`, scored with debugfs: an image counts as recovered
# when every file extracted from the rescued image has its original sha256.
# Usage: scripts/rescue/campaign.sh [N=24] [WORKDIR=/tmp/rescue-campaign]   (from the repo root,
# after `mvn -o -q -B package -pl core,dsl,repl -DskipTests`). Prints a Markdown table.
set -euo pipefail
N=${1:-24}; W=${2:-/tmp/rescue-campaign}; HERE=$(cd "$(dirname "$0")" && pwd); Q=$HERE/../../qcow2
rm -rf "$W"; mkdir -p "$W"
variants=("cluster_size=64k" "cluster_size=4k" "cluster_size=2M" "cluster_size=64k -c")
declare -A rec files clust
for i in $(seq 1 "$N"); do
  d=$W/img$i; mkdir -p $d/src/dir/sub
  for f in $(seq 1 $((5 + i % 7))); do head -c $(( (RANDOM * 7 + 500) % 400000 )) /dev/urandom > $d/src/$( ((f % 3 == 0)) && echo dir/ )f$f; done
  echo "image $i" > $d/src/dir/sub/note.txt
  truncate -s 16M $d/fs.raw; mkfs.ext4 -q -F -b 4096 -d $d/src $d/fs.raw
  v=${variants[$(( (i - 1) % ${#variants[@]} ))]}
  qemu-img convert -O qcow2 -o ${v%% *} $( [[ $v == *-c ]] && echo -c ) $d/fs.raw $d/img.qcow2
  for s in header l1 l2 refcount header+l1 all; do
    python3 $HERE/damage.py $d/img.qcow2 $d/d.qcow2 $s
    rm -f $d/o.qcow2 $d/o.raw
    ok=0; n=0
    if QCOW2_CACHE=none $Q rescue $d/d.qcow2 $d/o.qcow2 > $d/rep-$s.txt 2>&1; then
      qemu-img convert -O raw $d/o.qcow2 $d/o.raw
      while read -r f; do n=$((n+1)); rm -f $d/x; debugfs -R "dump /${f#./} $d/x" $d/o.raw >/dev/null 2>&1 || true
        [ -f $d/x ] && [ "$(sha256sum < $d/src/$f)" = "$(sha256sum < $d/x)" ] && ok=$((ok+1)); done < <(cd $d/src && find . -type f)
      c=$(python3 -c "
import sys; a=open('$d/fs.raw','rb').read(); b=open('$d/o.raw','rb').read(); cs=65536; t=g=0
for k in range(0,len(a),cs):
  x=a[k:k+cs]
  if x.count(0)!=len(x): t+=1; g+= x==b[k:k+cs]
print(g, t)")
    else n=$(cd $d/src && find . -type f | wc -l); c="0 1"; fi
    [ $ok -eq $n ] && rec[$s]=$(( ${rec[$s]:-0} + 1 ))
    f0=${files[$s]:-0 0}; files[$s]="$(( ${f0%% *} + ok )) $(( ${f0##* } + n ))"
    c0=${clust[$s]:-0 0}; set -- $c; clust[$s]="$(( ${c0%% *} + $1 )) $(( ${c0##* } + $2 ))"
  done
  rm -f $d/d.qcow2 $d/o.raw
done
echo "| scenario | recovered | files intact | 64 KiB guest data chunks placed correctly | qcow2-rescue (published) |"
echo "|---|---|---|---|---|"
declare -A pub=([header]=14/24 [l1]=24/24 [l2]=1/24 [refcount]=24/24 [header+l1]=16/24 [all]=19/24)
for s in header l1 l2 refcount header+l1 all; do
  set -- ${files[$s]}; fi=$(( 100 * $1 / ($2 > 0 ? $2 : 1) )); set -- ${clust[$s]}; ci=$(( 100 * $1 / ($2 > 0 ? $2 : 1) ))
  echo "| $s | ${rec[$s]:-0}/$N | $fi % | $ci % | ${pub[$s]} |"
done
