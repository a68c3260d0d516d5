package dev.qcow2.badinput

import dev.qcow2.testing.Damage

import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * The host byte ranges [offset, length] of an undamaged image's metadata, found from the raw
 * bytes (qcow2.rst layouts) without the library under test: cluster 0, the L1 tables (active
 * and snapshots') and their L2 tables, the refcount table and blocks, the snapshot table, the
 * bitmap directory and bitmap tables, and compressed cluster payloads.
 */
class MetadataRanges {
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L
    static final long BITMAPS_EXTENSION = 0x23852875L

    static List<long[]> of(Path f) {
        int clusterBits = (int) getInt(f, CLUSTER_BITS)
        long cs = 1L << clusterBits
        boolean extL2 = getInt(f, VERSION) == 3 && (getLong(f, INCOMPATIBLE_FEATURES) & 16) != 0
        List<long[]> out = [[0L, cs] as long[]]
        addL1(f, out, getLong(f, L1_TABLE_OFFSET), getInt(f, L1_SIZE), cs, clusterBits, extL2)

        long rt = getLong(f, REFCOUNT_TABLE_OFFSET), rtBytes = getInt(f, REFCOUNT_TABLE_CLUSTERS) * cs
        out << ([rt, rtBytes] as long[])
        for (long i = 0; i < rtBytes / 8; i++) {
            long block = getLong(f, rt + 8 * i) & ~0x1ffL
            if (block != 0) out << ([block, cs] as long[])
        }

        long nbSnapshots = getInt(f, NB_SNAPSHOTS), at = getLong(f, SNAPSHOTS_OFFSET)
        if (nbSnapshots > 0) out << ([at, cs] as long[])
        for (long i = 0; i < nbSnapshots; i++) {
            at = (at + 7) & ~7L
            addL1(f, out, getLong(f, at), getInt(f, at + 8), cs, clusterBits, extL2)
            long idSize = getInt(f, at + 12) >>> 16, nameSize = getInt(f, at + 12) & 0xffff
            at += 40 + getInt(f, at + 36) + idSize + nameSize
        }

        long bitmaps = getInt(f, VERSION) == 3 ? extensionOffset(f, BITMAPS_EXTENSION) : -1
        if (bitmaps >= 0) {
            long dirSize = getLong(f, bitmaps + 16), dir = getLong(f, bitmaps + 24)
            out << ([dir, dirSize] as long[])
            long pos = dir
            while (pos < dir + dirSize) {
                out << ([getLong(f, pos), getInt(f, pos + 8) * 8] as long[])
                long entry = 24 + getInt(f, pos + 20) + (getInt(f, pos + 16) & 0xffff)
                pos += (entry + 7) & ~7L
            }
        }
        out.findAll { it[0] > 0 || it.is(out[0]) }.findAll { it[1] > 0 }
    }

    private static void addL1(Path f, List<long[]> out, long l1, long l1Size, long cs, int clusterBits, boolean extL2) {
        if (l1 == 0 || l1Size == 0) return
        out << ([l1, l1Size * 8] as long[])
        int entrySize = extL2 ? 16 : 8
        for (long i = 0; i < l1Size; i++) {
            long l2 = getLong(f, l1 + 8 * i) & OFFSET_MASK
            if (l2 == 0) continue
            out << ([l2, cs] as long[])
            for (long j = 0; j < cs / entrySize; j++) {
                long e = getLong(f, l2 + j * entrySize)
                if ((e & (1L << 62)) == 0) continue
                int x = 62 - (clusterBits - 8)
                long offset = e & ((1L << x) - 1)
                long sectors = ((e >>> x) & ((1L << (clusterBits - 8)) - 1)) + 1
                out << ([offset, sectors * 512 - (offset & 511)] as long[])
            }
        }
    }
}
