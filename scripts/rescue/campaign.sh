#!/bin/bash
# Rescue campaign: N ext4 images per scenario (files of random sizes and bytes, mkfs.ext4 -d,
# qemu-img convert; cluster size and compression cycle over the images), one structure zeroed
# per scenario, rescued with `qcow2 rescue`, scored with debugfs: an image counts as recovered
# when every file extracted from the rescued image has its original sha256.
# Usage: [KINDS=plain,luks,aes,datafile,overlay] scripts/rescue/campaign.sh [N=24] [WORKDIR=/tmp/rescue-campaign]
# (from the repo root, after `mvn -o -q -B package -pl core,dsl,repl -DskipTests`). One Markdown
# table per kind (default KINDS=plain):
#   plain     qemu-img convert (64 KiB, 4 KiB, 2 MiB clusters, 64 KiB compressed)
#   luks      encrypted with LUKS (aes-256-xts-plain64; 64 KiB, 4 KiB, 2 MiB clusters), secret by --object/--image-opts
#   aes       encrypted with legacy AES (same clusters)
#   datafile  an external data file (-o data_file=…), rescued with --data-file
#   fat       FAT12, FAT16 and FAT32 in turn (mkfs.fat, files copied in with mtools), on the whole disk
#             or in an MBR partition at 1 MiB on every other image, converted as plain (same cluster
#             sizes, 64 KiB compressed); scored with mtools instead of debugfs
#   overlay   an overlay of an intact base (the 4 KiB blocks where a changed copy of the file system
#             differs — two files added, one removed — written by qemu-io, in guest order on odd
#             images and shuffled on even ones), rescued with -b BASE -F qcow2; OUT is an overlay of BASE
set -euo pipefail
N=${1:-24}; W=${2:-/tmp/rescue-campaign}; HERE=$(cd "$(dirname "$0")" && pwd); Q=$HERE/../../qcow2
KINDS=${KINDS:-plain}
SECRET=(--object secret,id=s0,data=campaign-pw)
rm -rf "$W"; mkdir -p "$W"

# mkov.py BASE_RAW NEW_RAW OVERLAY SHUFFLE: writes the 4 KiB blocks where NEW differs into OVERLAY with qemu-io
cat > "$W/mkov.py" <<'PY'
import sys, subprocess, os, random, tempfile
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read(); ov = sys.argv[3]; bs = 4096
ks = [k for k in range(0, len(b), bs) if a[k:k+bs] != b[k:k+bs]]
if sys.argv[4] == '1': random.Random(len(ks)).shuffle(ks)
d = tempfile.mkdtemp(dir=os.path.dirname(ov)); cmds = []
for k in ks:
    p = os.path.join(d, str(k)); open(p, 'wb').write(b[k:k+bs]); cmds += ['-c', 'write -s %s %d %d' % (p, k, bs)]
for i in range(0, len(cmds), 400):
    subprocess.run(['qemu-io', '-f', 'qcow2'] + cmds[i:i+400] + [ov], check=True, stdout=subprocess.DEVNULL)
PY

for kind in ${KINDS//,/ }; do
  case $kind in
    plain|fat) variants=("cluster_size=64k" "cluster_size=4k" "cluster_size=2M" "cluster_size=64k -c") ;;
    luks|aes|datafile|overlay) variants=("cluster_size=64k" "cluster_size=4k" "cluster_size=2M") ;;
    *) echo "unknown kind $kind (plain, fat, luks, aes, datafile, overlay)" >&2; exit 2 ;;
  esac
  unset rec files clust; declare -A rec files clust
  for i in $(seq 1 "$N"); do
    d=$W/$kind$i; mkdir -p $d/src/dir/sub
    for f in $(seq 1 $((5 + i % 7))); do head -c $(( (RANDOM * 7 + 500) % 400000 )) /dev/urandom > $d/src/$( ((f % 3 == 0)) && echo dir/ )f$f; done
    echo "image $i" > $d/src/dir/sub/note.txt
    if [[ $kind == fat ]]; then
      # FAT12 / FAT16 / FAT32 in turn (FAT32 needs 65525 clusters: 512-byte clusters on 48 MiB)
      t=$(( (i - 1) % 3 )); ft=(12 16 32); fsz=(8 32 48); mbr=$(( (i - 1) / 3 % 2 ))
      truncate -s ${fsz[$t]}M $d/vol.raw; mkfs.fat -F ${ft[$t]} $( ((t == 2)) && echo "-s 1" ) $d/vol.raw >/dev/null
      export MTOOLS_SKIP_CHECK=1; mmd -i $d/vol.raw ::/dir ::/dir/sub
      (cd $d/src && find . -type f | sed 's#^\./##') | while read -r f; do mcopy -i $d/vol.raw $d/src/$f ::/$f; done
      if ((mbr)); then # one primary partition at 1 MiB
        truncate -s $(( ${fsz[$t]} + 1 ))M $d/fs.raw
        python3 -c "import struct,sys; m=bytearray(512); m[446+4]=0x0C if ${ft[$t]}==32 else 0x06; struct.pack_into('<II',m,446+8,2048,${fsz[$t]}*2048); m[510:512]=b'\x55\xaa'; open('$d/fs.raw','r+b').write(m)"
        dd if=$d/vol.raw of=$d/fs.raw bs=1M seek=1 conv=notrunc status=none; drive=@@1M
      else mv $d/vol.raw $d/fs.raw; drive=; fi
      rm -f $d/vol.raw
    else
      truncate -s 16M $d/fs.raw; mkfs.ext4 -q -F -b 4096 -d $d/src $d/fs.raw
    fi
    v=${variants[$(( (i - 1) % ${#variants[@]} ))]}; o=${v%% *}; c=$( [[ $v == *-c ]] && echo -c || true )
    exp=$d/src; guest=$d/fs.raw; args=()
    case $kind in
      plain|fat) qemu-img convert -O qcow2 -o $o $c $d/fs.raw $d/img.qcow2 ;;
      luks|aes) # qemu-img's PBKDF2 calibration fails now and then on a busy machine ("Unable to get accurate CPU usage"): retried
        for t in $(seq 1 20); do qemu-img convert -O qcow2 "${SECRET[@]}" -o $o,encrypt.format=$kind,encrypt.key-secret=s0$( [ $kind = luks ] && echo ,encrypt.iter-time=10 ) $d/fs.raw $d/img.qcow2 2>$d/convert.err && break; sleep 1; done
        [ -f $d/img.qcow2 ] || { cat $d/convert.err >&2; exit 1; }
        args=("${SECRET[@]}" --image-opts) ;;
      datafile) qemu-img convert -O qcow2 -o $o,data_file=$d/img.data $d/fs.raw $d/img.qcow2; args=(--data-file $d/img.data) ;;
      overlay)
        qemu-img convert -O qcow2 -o $o $d/fs.raw $d/base.qcow2
        cp -r $d/src $d/exp; exp=$d/exp; guest=$d/changed.raw; cp $d/fs.raw $guest
        head -c $(( RANDOM * 9 + 1000 )) /dev/urandom > $d/exp/added1; head -c $(( RANDOM + 100 )) /dev/urandom > $d/exp/dir/added2
        debugfs -w -R "write $d/exp/added1 added1" $guest >/dev/null 2>&1; debugfs -w -R "write $d/exp/dir/added2 dir/added2" $guest >/dev/null 2>&1
        debugfs -w -R "rm f1" $guest >/dev/null 2>&1; rm $d/exp/f1
        qemu-img create -q -f qcow2 -o $o -b $d/base.qcow2 -F qcow2 $d/img.qcow2
        python3 $W/mkov.py $d/fs.raw $guest $d/img.qcow2 $(( i % 2 == 0 ? 1 : 0 ))
        args=(-b $d/base.qcow2 -F qcow2) ;;
    esac
    for s in header l1 l2 refcount header+l1 all; do
      python3 $HERE/damage.py $d/img.qcow2 $d/d.qcow2 $s
      rm -f $d/o.qcow2 $d/o.raw
      ok=0; n=0
      if [[ $kind == luks || $kind == aes ]]; then target=driver=qcow2,file.filename=$d/d.qcow2,encrypt.key-secret=s0; else target=$d/d.qcow2; fi
      if QCOW2_CACHE=none $Q rescue "${args[@]}" $target $d/o.qcow2 > $d/rep-$s.txt 2>&1; then
        qemu-img convert -O raw $d/o.qcow2 $d/o.raw
        while read -r f; do n=$((n+1)); rm -f $d/x
          if [[ $kind == fat ]]; then MTOOLS_SKIP_CHECK=1 mcopy -n -i $d/o.raw$drive "::/${f#./}" $d/x >/dev/null 2>&1 || true
          else debugfs -R "dump /${f#./} $d/x" $d/o.raw >/dev/null 2>&1 || true; fi
          [ -f $d/x ] && [ "$(sha256sum < $exp/$f)" = "$(sha256sum < $d/x)" ] && ok=$((ok+1)); done < <(cd $exp && find . -type f)
        cl=$(python3 -c "
a=open('$guest','rb').read(); b=open('$d/o.raw','rb').read(); cs=65536; t=g=0
for k in range(0,len(a),cs):
  x=a[k:k+cs]
  if x.count(0)!=len(x): t+=1; g+= x==b[k:k+cs]
print(g, t)")
      else n=$(cd $exp && find . -type f | wc -l); cl="0 1"; fi
      [ $ok -eq $n ] && rec[$s]=$(( ${rec[$s]:-0} + 1 ))
      f0=${files[$s]:-0 0}; files[$s]="$(( ${f0%% *} + ok )) $(( ${f0##* } + n ))"
      c0=${clust[$s]:-0 0}; set -- $cl; clust[$s]="$(( ${c0%% *} + $1 )) $(( ${c0##* } + $2 ))"
    done
    rm -f $d/d.qcow2 $d/o.raw
  done
  echo
  echo "kind: $kind"
  echo "| scenario | recovered | files intact | 64 KiB guest data chunks placed correctly | qcow2-rescue (published) |"
  echo "|---|---|---|---|---|"
  declare -A pub=([header]=14/24 [l1]=24/24 [l2]=1/24 [refcount]=24/24 [header+l1]=16/24 [all]=19/24)
  for s in header l1 l2 refcount header+l1 all; do
    set -- ${files[$s]}; fi=$(( 100 * $1 / ($2 > 0 ? $2 : 1) )); set -- ${clust[$s]}; ci=$(( 100 * $1 / ($2 > 0 ? $2 : 1) ))
    echo "| $s | ${rec[$s]:-0}/$N | $fi % | $ci % | $( [ $kind = plain ] && echo ${pub[$s]} || echo — ) |"
  done
done
