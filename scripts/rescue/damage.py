#!/usr/bin/env python3
# damage.py SRC DST header|l1|l2|refcount|all[+...]: copies SRC to DST and zeroes the named qcow2
# structures (the header cluster; the active L1; every L2 table of the active and snapshot L1s;
# the refcount table and blocks). Follows SRC's own header, so SRC must be intact.
import struct, sys, shutil
src, dst, what = sys.argv[1], sys.argv[2], sys.argv[3].split('+')
shutil.copy(src, dst)
f = open(dst, 'r+b')
h = f.read(112)
cb = struct.unpack('>I', h[20:24])[0]; cs = 1 << cb
l1size = struct.unpack('>I', h[36:40])[0]; l1off = struct.unpack('>Q', h[40:48])[0]
rtoff = struct.unpack('>Q', h[48:56])[0]; rtcl = struct.unpack('>I', h[56:60])[0]
nsn = struct.unpack('>I', h[60:64])[0]; snoff = struct.unpack('>Q', h[64:72])[0]
f.seek(l1off); l1 = struct.unpack('>%dQ' % l1size, f.read(8 * l1size))
l2s = set(e & 0x00fffffffffffe00 for e in l1 if e & 0x00fffffffffffe00)
# snapshot L1s
off = snoff
for i in range(nsn):
    f.seek(off); s = f.read(40)
    sl1off, sl1size = struct.unpack('>QI', s[0:12]); idl, nl, = struct.unpack('>HH', s[12:16]); ex = struct.unpack('>I', s[36:40])[0]
    f.seek(sl1off); sl1 = struct.unpack('>%dQ' % sl1size, f.read(8 * sl1size))
    l2s |= set(e & 0x00fffffffffffe00 for e in sl1 if e & 0x00fffffffffffe00)
    off += 40 + ex + idl + nl; off = (off + 7) & ~7
f.seek(rtoff); rt = struct.unpack('>%dQ' % (rtcl * cs // 8), f.read(rtcl * cs))
rbs = [e for e in rt if e]
def z(o, n): f.seek(o); f.write(b'\0' * n)
for w in what:
    if w in ('header', 'all'): z(0, cs)
    if w in ('l1', 'all'): z(l1off, l1size * 8)
    if w in ('l2', 'all'):
        for o in l2s: z(o, cs)
    if w in ('refcount', 'all'):
        z(rtoff, rtcl * cs)
        for o in rbs: z(o, cs)
