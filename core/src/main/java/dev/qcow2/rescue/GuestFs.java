package dev.qcow2.rescue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * What the guest's own structures say about guest positions: partition tables (MBR, GPT) and
 * ext2/3/4 file systems (superblock, group descriptors, inodes, extent trees and block maps);
 * FAT12/16/32 in {@link FatFs}.
 * All fields are little-endian (ext4 "Super Block", "Block Group Descriptors", "Inode Table",
 * "Extent Tree"; UEFI "GPT Header"). Reads go through a {@link GuestView} that answers only for
 * clusters already placed; what cannot be read is skipped, never guessed.
 */
final class GuestFs {
    static final int EXT_MAGIC = 0xEF53, EXTENT_MAGIC = 0xF30A;
    static final int EXTENTS_FL = 0x80000, INLINE_DATA_FL = 0x10000000;
    static final long INCOMPAT_64BIT = 0x80;
    static final int RO_COMPAT_GDT_CSUM = 0x10, RO_COMPAT_METADATA_CSUM = 0x400;

    /** Guest bytes from placed clusters only. */
    interface GuestView {
        /** {@code len} bytes at {@code guestOffset}, or null when any of them lies in a cluster not placed. */
        byte[] read(long guestOffset, int len);
    }

    private GuestFs() { }

    static ByteBuffer le(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN); }

    /** An ext2/3/4 superblock at byte {@code at} of {@code b}, checked for plausibility. */
    record Superblock(long blocksCount, int firstDataBlock, int blockSize, int blocksPerGroup, int inodesPerGroup,
                      long inodesCount, int inodeSize, int groupNr, boolean is64, int descSize, int roCompat,
                      int reservedGdtBlocks) {
        int groups() { return (int) ((blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup); }

        /** Byte offset, inside the file system, of the superblock copy of group {@code g}. */
        long copyOffset(int g) { return g == 0 ? 1024 : ((long) g * blocksPerGroup + firstDataBlock) * blockSize; }

        boolean tracksUnusedInodes() { return (roCompat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) != 0; }

        static Superblock parse(ByteBuffer b, int at) {
            if (at + 1024 > b.capacity() || (b.getShort(at + 56) & 0xffff) != EXT_MAGIC) return null;
            int logBlock = b.getInt(at + 24);
            if (logBlock < 0 || logBlock > 6) return null;
            int bs = 1024 << logBlock;
            int bpg = b.getInt(at + 32), ipg = b.getInt(at + 40);
            if (bpg != 8 * bs || ipg <= 0 || ipg > 8 * bs) return null;
            int fdb = b.getInt(at + 20);
            if (fdb != (bs == 1024 ? 1 : 0)) return null;
            long incompat = b.getInt(at + 96) & 0xffffffffL;
            boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
            long blocks = b.getInt(at + 4) & 0xffffffffL;
            if (is64) blocks |= (b.getInt(at + 0x150) & 0xffffffffL) << 32;
            int rev = b.getInt(at + 76);
            int inodeSize = rev == 0 ? 128 : b.getShort(at + 88) & 0xffff;
            if (inodeSize < 128 || inodeSize > bs || Integer.bitCount(inodeSize) != 1) return null;
            int descSize = is64 ? b.getShort(at + 254) & 0xffff : 32;
            if (descSize < 32) descSize = 32;
            if (blocks <= fdb) return null;
            return new Superblock(blocks, fdb, bs, bpg, ipg, b.getInt(at) & 0xffffffffL, inodeSize,
                    b.getShort(at + 90) & 0xffff, is64, descSize, b.getInt(at + 100), b.getShort(at + 0xCE) & 0xffff);
        }
    }

    /** A superblock found inside one host cluster: its byte offset in that cluster. */
    record SuperblockHit(int inCluster, Superblock sb) { }

    /** Every plausible superblock at a 512-aligned position of {@code cluster}. */
    static List<SuperblockHit> superblocks(ByteBuffer cluster) {
        List<SuperblockHit> hits = new ArrayList<>();
        ByteBuffer b = cluster.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 1024 <= b.capacity(); at += 512) {
            Superblock sb = Superblock.parse(b, at);
            if (sb != null) hits.add(new SuperblockHit(at, sb));
        }
        return hits;
    }

    /** An MBR at the start of {@code cluster}: start byte offsets of its partitions (GPT entries when protective), or null. */
    static boolean isMbr(ByteBuffer cluster) {
        if (cluster.capacity() < 512) return false;
        ByteBuffer b = cluster.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(510) & 0xffff) != 0xAA55) return false;
        int valid = 0;
        for (int p = 0; p < 4; p++) {
            int e = 446 + 16 * p;
            int status = b.get(e) & 0xff, type = b.get(e + 4) & 0xff;
            long start = b.getInt(e + 8) & 0xffffffffL;
            if (status != 0 && status != 0x80) return false;
            if (type != 0 && start > 0) valid++;
        }
        return valid > 0;
    }

    /** Start byte offsets of the primary MBR partitions of {@code mbr} (extended and GPT-protective entries left out). */
    static List<Long> mbrPartitionStarts(ByteBuffer mbr) {
        ByteBuffer b = mbr.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        List<Long> starts = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int e = 446 + 16 * p;
            int type = b.get(e + 4) & 0xff;
            long start = b.getInt(e + 8) & 0xffffffffL;
            if (type != 0 && type != 0x05 && type != 0x0f && type != 0xEE && start > 0) starts.add(start * 512);
        }
        return starts;
    }

    /** Partition start byte offsets from the partition table at guest 0 (MBR or GPT), or [0] when there is none. */
    static List<Long> partitionStarts(GuestView view) {
        List<Long> starts = new ArrayList<>();
        byte[] mbr = view.read(0, 512);
        if (mbr == null || !isMbr(ByteBuffer.wrap(mbr))) { starts.add(0L); return starts; }
        ByteBuffer b = le(mbr);
        boolean gpt = false;
        for (int p = 0; p < 4; p++) {
            int e = 446 + 16 * p;
            int type = b.get(e + 4) & 0xff;
            long start = b.getInt(e + 8) & 0xffffffffL;
            if (type == 0xEE) gpt = true;
            else if (type != 0 && type != 0x05 && type != 0x0f && start > 0) starts.add(start * 512);
        }
        if (gpt) {
            byte[] hdr = view.read(512, 512);
            if (hdr != null && new String(hdr, 0, 8, java.nio.charset.StandardCharsets.US_ASCII).equals("EFI PART")) {
                ByteBuffer h = le(hdr);
                long entriesLba = h.getLong(72);
                int n = h.getInt(80), size = h.getInt(84);
                if (n > 0 && n <= 1024 && size >= 128 && size <= 4096 && entriesLba > 0 && entriesLba < (1L << 40)) {
                    byte[] entries = view.read(entriesLba * 512, n * size);
                    if (entries != null) {
                        ByteBuffer eb = le(entries);
                        for (int i = 0; i < n; i++) {
                            if (eb.getLong(i * size) == 0 && eb.getLong(i * size + 8) == 0) continue;
                            long first = eb.getLong(i * size + 32);
                            if (first > 0 && first < (1L << 40)) starts.add(first * 512);
                        }
                    }
                }
            }
        }
        if (starts.isEmpty()) starts.add(0L);
        return starts;
    }

    /**
     * The guest byte ranges an ext2/3/4 file system at {@code fsStart} holds non-zero data in, as
     * far as the placed clusters let us read: superblock and descriptor blocks, bitmaps, the
     * inode-table blocks holding used inodes, extent-tree blocks, and the data blocks of every
     * in-use inode (the journal's first block only: a fresh journal is zeros). Marks guest
     * clusters (of {@code clusterBits}) in {@code used}.
     */
    static void expectedNonZero(GuestView view, long fsStart, int clusterBits, long maxClusters, BitSet used) {
        expectedNonZero(view, fsStart, clusterBits, maxClusters, used, null);
    }

    /**
     * As {@link #expectedNonZero(GuestView, long, int, long, BitSet)}, and marks in {@code full}
     * (when not null) the guest clusters made only of whole data blocks of regular files (blocks
     * before the one holding the end of the file): the clusters a compressing writer is least
     * likely to have compressed (no zeros of padding, metadata or free space in them).
     */
    static void expectedNonZero(GuestView view, long fsStart, int clusterBits, long maxClusters, BitSet used, BitSet full) {
        BitSet fullBlocks = full == null ? null : new BitSet();
        walkExpected(view, fsStart, clusterBits, maxClusters, used, fullBlocks);
        FatFs.expectedNonZero(view, fsStart, clusterBits, maxClusters, used);
        if (full == null) return;
        byte[] sbBytes = view.read(fsStart + 1024, 1024);
        Superblock sb = sbBytes == null ? null : Superblock.parse(le(sbBytes), 0);
        if (sb == null) return;
        long bs = sb.blockSize(), cs = 1L << clusterBits;
        for (int c = used.nextSetBit(0); c >= 0; c = used.nextSetBit(c + 1)) {
            long from = (long) c * cs - fsStart, to = from + cs;
            if (from < 0) continue;
            boolean allFull = true;
            for (long b = from / bs; b * bs < to && allFull; b++) allFull = b < Integer.MAX_VALUE && fullBlocks.get((int) b);
            if (allFull) full.set(c);
            if (c == Integer.MAX_VALUE - 1) break;
        }
    }

    private static void walkExpected(GuestView view, long fsStart, int clusterBits, long maxClusters, BitSet used, BitSet fullBlocks) {
        byte[] sbBytes = view.read(fsStart + 1024, 1024);
        if (sbBytes == null) return;
        Superblock sb = Superblock.parse(le(sbBytes), 0);
        if (sb == null) return;
        int bs = sb.blockSize();
        java.util.function.LongConsumer mark = block -> {
            long c = (fsStart + block * bs) >>> clusterBits;
            if (c >= 0 && c < maxClusters) used.set((int) c);
        };
        mark.accept(0);
        mark.accept(sb.firstDataBlock());
        long gdtBlock = sb.firstDataBlock() + 1L;
        int groups = sb.groups();
        long gdtBytes = (long) groups * sb.descSize();
        if (groups <= 0 || gdtBytes > (64L << 20)) return;
        long gdtBlocks = (gdtBytes + bs - 1) / bs;
        for (long b = 0; b < gdtBlocks; b++) mark.accept(gdtBlock + b); // reserved GDT blocks stay zero until a resize
        byte[] gdt = view.read(fsStart + gdtBlock * bs, (int) gdtBytes);
        if (gdt == null) return;
        ByteBuffer g = le(gdt);
        for (int i = 0; i < groups; i++) {
            int d = i * sb.descSize();
            long blockBitmap = lohi(g, d, d + 0x20, sb), inodeBitmap = lohi(g, d + 4, d + 0x24, sb), table = lohi(g, d + 8, d + 0x28, sb);
            int flags = g.getShort(d + 18) & 0xffff;
            int unused = (g.getShort(d + 28) & 0xffff) | (sb.is64() && sb.descSize() >= 64 ? (g.getShort(d + 0x32) & 0xffff) << 16 : 0);
            if ((flags & 2) == 0 && blockBitmap < sb.blocksCount()) mark.accept(blockBitmap);
            if ((flags & 1) == 0 && inodeBitmap < sb.blocksCount()) mark.accept(inodeBitmap);
            if ((flags & 1) != 0) continue; // INODE_UNINIT: no inode in use
            int inUse = sb.tracksUnusedInodes() ? sb.inodesPerGroup() - unused : sb.inodesPerGroup();
            if (inUse <= 0 || table >= sb.blocksCount()) continue;
            long tableBytes = (long) inUse * sb.inodeSize();
            for (long b = 0; b * bs < tableBytes; b++) mark.accept(table + b);
            byte[] inodes = view.read(fsStart + table * bs, (int) Math.min(tableBytes, 64L << 20));
            if (inodes == null) continue;
            ByteBuffer ib = le(inodes);
            for (int k = 0; k < inUse; k++) {
                int at = k * sb.inodeSize();
                long ino = (long) i * sb.inodesPerGroup() + k + 1;
                int mode = ib.getShort(at) & 0xffff, links = ib.getShort(at + 26) & 0xffff;
                // resize inode (7): its reserved GDT blocks are zero until a resize; the journal (8):
                // only its superblock (first block) is non-zero until used
                if (ino == 7 && mode != 0) { // its double-indirect block lists the reserved GDT blocks: non-zero
                    long dind = ib.getInt(at + 40 + 4 * 13) & 0xffffffffL;
                    if (dind != 0 && dind < sb.blocksCount()) mark.accept(dind);
                }
                if (mode == 0 || (links == 0 && ino != 8) || ino == 7) continue;
                int iflags = ib.getInt(at + 32);
                if ((iflags & INLINE_DATA_FL) != 0) continue;
                boolean journal = ino == 8;
                long size = (ib.getInt(at + 4) & 0xffffffffL) | ((long) ib.getInt(at + 108) << 32);
                if ((mode & 0xF000) == 0xA000 && size < 60) continue; // fast symlink: target in i_block
                byte[] iblock = new byte[60];
                ib.get(at + 40, iblock);
                // whole data blocks of a regular file: logical blocks before the one holding its end
                long wholeBlocks = (mode & 0xF000) == 0x8000 && !journal ? size / bs : 0;
                java.util.function.LongConsumer markWhole = fullBlocks == null ? null : block -> {
                    if (block < Integer.MAX_VALUE) fullBlocks.set((int) block);
                };
                if ((iflags & EXTENTS_FL) != 0) extents(view, fsStart, sb, le(iblock), 0, mark, journal, 0, wholeBlocks, markWhole);
                else blockMap(view, fsStart, sb, le(iblock), mark, journal);
            }
        }
    }

    /** First data block of every directory inode of group 0 (inode number -> fs block), as far as readable. */
    static java.util.Map<Long, Long> directoryFirstBlocks(GuestView view, long fsStart) {
        java.util.Map<Long, Long> dirs = new java.util.LinkedHashMap<>();
        byte[] sbBytes = view.read(fsStart + 1024, 1024);
        Superblock sb = sbBytes == null ? null : Superblock.parse(le(sbBytes), 0);
        if (sb == null) return dirs;
        long table = inodeTable(view, fsStart, sb, 0);
        if (table < 0) return dirs;
        for (int k = 0; k < sb.inodesPerGroup(); k++) {
            byte[] inode = view.read(fsStart + table * sb.blockSize() + (long) k * sb.inodeSize(), 128);
            if (inode == null) continue;
            ByteBuffer ib = le(inode);
            if ((ib.getShort(0) & 0xF000) != 0x4000 || (ib.getShort(26) & 0xffff) == 0) continue;
            if ((ib.getInt(32) & EXTENTS_FL) != 0) {
                if ((ib.getShort(40) & 0xffff) != EXTENT_MAGIC || ib.getShort(46) != 0 || ib.getShort(42) == 0) continue;
                if ((ib.getInt(52) != 0)) continue; // first extent must start at logical block 0
                long b = ((long) (ib.getShort(58) & 0xffff) << 32) | (ib.getInt(60) & 0xffffffffL);
                if (b > 0 && b < sb.blocksCount()) dirs.put(k + 1L, b);
            } else {
                long b = ib.getInt(40) & 0xffffffffL;
                if (b > 0 && b < sb.blocksCount()) dirs.put(k + 1L, b);
            }
        }
        return dirs;
    }

    /** The inode table block of group {@code g}, from the group descriptors, or -1. */
    static long inodeTable(GuestView view, long fsStart, Superblock sb, int g) {
        byte[] d = view.read(fsStart + (sb.firstDataBlock() + 1L) * sb.blockSize() + (long) g * sb.descSize(), sb.descSize());
        if (d == null) return -1;
        long t = lohi(le(d), 8, 0x28, sb);
        return t > 0 && t < sb.blocksCount() ? t : -1;
    }

    /** Whether {@code b} at {@code at} starts a directory block of inode {@code ino}: "." then "..". */
    static boolean directoryStart(ByteBuffer b, int at, long ino) {
        ByteBuffer l = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (at + 24 > l.capacity() || (l.getInt(at) & 0xffffffffL) != ino) return false;
        int rec = l.getShort(at + 4) & 0xffff;
        if (rec != 12 || (l.get(at + 6) & 0xff) != 1 || l.get(at + 8) != '.') return false;
        return (l.get(at + 12 + 6) & 0xff) == 2 && l.get(at + 12 + 8) == '.' && l.get(at + 12 + 9) == '.';
    }

    /**
     * Whether {@code b} at {@code at} starts group 0's inode table: inode 2 (the root) a directory
     * with links, and the reserved inodes around it as mke2fs leaves them — 1 (bad blocks) and
     * 3 to 6 (quota, boot loader, undelete dir) without a mode, 7 (resize) and 8 (journal) unused
     * or regular files — as far as they lie in the block. (A later inode-table block with some
     * directory inode usually fails these.)
     */
    static boolean inodeTableStart(ByteBuffer b, int at, int inodeSize) {
        ByteBuffer l = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (at + 2 * inodeSize > l.capacity()) return false;
        int root = at + inodeSize;
        if ((l.getShort(root) & 0xF000) != 0x4000 || (l.getShort(root + 26) & 0xffff) < 2) return false;
        int flags = l.getInt(root + 32);
        if ((flags & EXTENTS_FL) != 0 && (l.getShort(root + 40) & 0xffff) != EXTENT_MAGIC) return false;
        for (int ino = 1; ino <= 8; ino++) {
            int i = at + (ino - 1) * inodeSize;
            if (ino == 2) continue;
            if (i + 2 > l.capacity()) break;
            int type = l.getShort(i) & 0xF000;
            if (ino <= 6 ? (l.getShort(i) & 0xffff) != 0 : type != 0 && type != 0x8000) return false;
        }
        return true;
    }

    /** Whether {@code b} at {@code at} holds a plausible group descriptor 0: bitmaps and inode table distinct blocks inside the file system. */
    static boolean plausibleDescriptor(ByteBuffer b, int at, Superblock sb) {
        if (at + sb.descSize() > b.capacity()) return false;
        ByteBuffer l = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long bb = lohi(l, at, at + 0x20, sb), ib = lohi(l, at + 4, at + 0x24, sb), it = lohi(l, at + 8, at + 0x28, sb);
        long lo = sb.firstDataBlock() + 1L, hi = sb.blocksCount();
        return bb > lo && ib > lo && it > lo && bb < hi && ib < hi && it < hi && bb != ib && ib != it && bb != it
                && (l.getShort(at + 12) & 0xffff) <= sb.blocksPerGroup() && (l.getShort(at + 14) & 0xffff) <= sb.inodesPerGroup();
    }

    private static long lohi(ByteBuffer g, int lo, int hi, Superblock sb) {
        long v = g.getInt(lo) & 0xffffffffL;
        if (sb.is64() && sb.descSize() >= 64) v |= (g.getInt(hi) & 0xffffffffL) << 32;
        return v;
    }

    /** {@code markWhole} (may be null) gets the physical blocks of logical blocks below {@code wholeBlocks}. */
    private static void extents(GuestView view, long fsStart, Superblock sb, ByteBuffer node, int at,
                                java.util.function.LongConsumer mark, boolean journal, int level,
                                long wholeBlocks, java.util.function.LongConsumer markWhole) {
        if (level > 5 || (node.getShort(at) & 0xffff) != EXTENT_MAGIC) return;
        int entries = node.getShort(at + 2) & 0xffff, depth = node.getShort(at + 6) & 0xffff;
        for (int e = 0; e < entries && at + 12 + 12 * e + 12 <= node.capacity(); e++) {
            int p = at + 12 + 12 * e;
            if (depth == 0) {
                int len = node.getShort(p + 4) & 0xffff;
                if (len > 32768) continue; // unwritten extent: reads as zeros
                long start = ((long) (node.getShort(p + 6) & 0xffff) << 32) | (node.getInt(p + 8) & 0xffffffffL);
                long logical = node.getInt(p) & 0xffffffffL;
                for (int b = 0; b < len; b++) {
                    if (journal && logical + b > 0) break;
                    if (start + b < sb.blocksCount()) {
                        mark.accept(start + b);
                        if (markWhole != null && logical + b < wholeBlocks) markWhole.accept(start + b);
                    }
                }
            } else {
                long leaf = (node.getInt(p + 4) & 0xffffffffL) | ((long) (node.getShort(p + 8) & 0xffff) << 32);
                if (leaf >= sb.blocksCount()) continue;
                mark.accept(leaf);
                byte[] child = view.read(fsStart + leaf * sb.blockSize(), sb.blockSize());
                if (child != null) extents(view, fsStart, sb, le(child), 0, mark, journal, level + 1, wholeBlocks, markWhole);
            }
        }
    }

    /** ext2/3 block map: 12 direct blocks, then single, double and triple indirect blocks. */
    private static void blockMap(GuestView view, long fsStart, Superblock sb, ByteBuffer iblock,
                                 java.util.function.LongConsumer mark, boolean journal) {
        for (int i = 0; i < 15; i++) {
            long b = iblock.getInt(4 * i) & 0xffffffffL;
            if (b == 0 || b >= sb.blocksCount()) continue;
            if (i < 12) { mark.accept(b); if (journal) return; }
            else indirect(view, fsStart, sb, b, i - 11, mark, journal);
        }
    }

    private static void indirect(GuestView view, long fsStart, Superblock sb, long block, int level,
                                 java.util.function.LongConsumer mark, boolean journal) {
        mark.accept(block);
        if (journal) return;
        byte[] b = view.read(fsStart + block * sb.blockSize(), sb.blockSize());
        if (b == null) return;
        ByteBuffer bb = le(b);
        for (int i = 0; i < sb.blockSize() / 4; i++) {
            long child = bb.getInt(4 * i) & 0xffffffffL;
            if (child == 0 || child >= sb.blocksCount()) continue;
            if (level == 1) mark.accept(child);
            else indirect(view, fsStart, sb, child, level - 1, mark, false);
        }
    }
}
