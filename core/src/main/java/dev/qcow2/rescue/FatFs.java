package dev.qcow2.rescue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * What a FAT12/16/32 file system says about which guest clusters hold data: its boot sector
 * (BIOS parameter block), the allocation tables, the FAT12/16 root directory and every allocated
 * data cluster. Layout and fields as Microsoft's "FAT: General Overview of On-Disk Format"
 * (BPB at offset 11, FAT type from the count of data clusters: under 4085 FAT12, under 65525
 * FAT16, else FAT32). Reads go through a {@link GuestFs.GuestView} that answers only for
 * clusters already placed; what cannot be read is skipped, never guessed.
 */
final class FatFs {
    private FatFs() { }

    /** A BIOS parameter block that passed every plausibility check. {@code type} is 12, 16 or 32. */
    record BootSector(int bytesPerSector, int sectorsPerCluster, int reservedSectors, int fats, int rootEntries,
                      long totalSectors, long fatSectors, long rootCluster, int fsInfoSector, int backupBootSector, int type) {
        long fatOffset(int copy) { return ((long) reservedSectors + (long) copy * fatSectors) * bytesPerSector; }

        long fatBytes() { return fatSectors * bytesPerSector; }

        long rootDirOffset() { return fatOffset(fats); }

        long rootDirBytes() { return (long) rootEntries * 32; }

        long dataOffset() { return rootDirOffset() + (rootDirBytes() + bytesPerSector - 1) / bytesPerSector * bytesPerSector; }

        int clusterBytes() { return bytesPerSector * sectorsPerCluster; }

        /** Data clusters: numbered 2 .. clusters() + 1. */
        long clusters() { return (totalSectors * bytesPerSector - dataOffset()) / clusterBytes(); }

        long clusterOffset(long n) { return dataOffset() + (n - 2) * clusterBytes(); }

        long size() { return totalSectors * bytesPerSector; }

        /** Byte offset of entry {@code n} inside a FAT (FAT12: 1.5 bytes per entry). */
        long entryOffset(long n) { return type == 12 ? n + n / 2 : n * (type / 8); }

        /** Entries a FAT of this size holds. */
        long entriesInFat() { return type == 12 ? fatBytes() * 2 / 3 : fatBytes() / (type / 8); }

        /** Whether FAT entry value {@code v} marks a cluster in use (not free, not bad). */
        boolean inUse(long v) {
            long bad = type == 12 ? 0xff7 : type == 16 ? 0xfff7 : 0x0ffffff7L;
            return v != 0 && v != bad;
        }
    }

    /** FAT entry {@code n} whose bytes start at {@code off} of {@code fat} (FAT12: 12 bits, the high ones for odd n). */
    private static long entryAt(BootSector bs, ByteBuffer fat, int off, long n) {
        return switch (bs.type()) {
            case 12 -> {
                int v = fat.getShort(off) & 0xffff;
                yield (n & 1) == 0 ? v & 0xfff : v >>> 4;
            }
            case 16 -> fat.getShort(off) & 0xffff;
            default -> fat.getInt(off) & 0x0fffffffL;
        };
    }

    /** The boot sector at byte {@code at} of {@code b}, or null when it is not a plausible FAT boot sector. */
    static BootSector parse(ByteBuffer buffer, int at) {
        if (at < 0 || at + 512 > buffer.capacity()) return null;
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int jump = b.get(at) & 0xff;
        if (!(jump == 0xEB && (b.get(at + 2) & 0xff) == 0x90) && jump != 0xE9) return null;
        if ((b.getShort(at + 510) & 0xffff) != 0xAA55) return null;
        int bps = b.getShort(at + 11) & 0xffff;
        if (bps < 512 || bps > 4096 || Integer.bitCount(bps) != 1) return null;
        int spc = b.get(at + 13) & 0xff;
        if (spc == 0 || Integer.bitCount(spc) != 1) return null;
        int reserved = b.getShort(at + 14) & 0xffff;
        int fats = b.get(at + 16) & 0xff;
        int rootEntries = b.getShort(at + 17) & 0xffff;
        int media = b.get(at + 21) & 0xff;
        if (reserved == 0 || fats == 0 || fats > 4 || (media != 0xF0 && media < 0xF8)) return null;
        long total = b.getShort(at + 19) & 0xffff;
        if (total == 0) total = b.getInt(at + 32) & 0xffffffffL;
        long fat16 = b.getShort(at + 22) & 0xffff;
        long fatSectors = fat16 != 0 ? fat16 : b.getInt(at + 36) & 0xffffffffL;
        if (total == 0 || fatSectors == 0 || (long) rootEntries * 32 % bps != 0) return null;
        long dataSector = reserved + fats * fatSectors + (long) rootEntries * 32 / bps;
        if (dataSector >= total) return null;
        long clusters = (total - dataSector) / spc;
        int type = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
        // FAT32 has no fixed root directory and its FAT size in the 32-bit field; FAT12/16 the reverse
        if ((type == 32) != (rootEntries == 0) || (type == 32) != (fat16 == 0)) return null;
        long rootCluster = type == 32 ? b.getInt(at + 44) & 0x0fffffffL : 0;
        int fsInfo = type == 32 ? b.getShort(at + 48) & 0xffff : 0;
        int backup = type == 32 ? b.getShort(at + 50) & 0xffff : 0;
        if (type == 32 && (rootCluster < 2 || rootCluster > clusters + 1)) return null;
        BootSector sector = new BootSector(bps, spc, reserved, fats, rootEntries, total, fatSectors, rootCluster, fsInfo, backup, type);
        if (sector.entriesInFat() < clusters + 2) return null; // the FAT must have an entry per data cluster
        return sector;
    }

    /** The boot sector at guest byte {@code fsStart}, if it is placed and plausible. */
    static BootSector at(GuestFs.GuestView view, long fsStart) {
        byte[] b = view.read(fsStart, 512);
        return b == null ? null : parse(ByteBuffer.wrap(b), 0);
    }

    /**
     * Marks in {@code used} the guest clusters (of {@code clusterBits}) a FAT file system at
     * {@code fsStart} holds non-zero bytes in, as far as the placed clusters let us read: the boot
     * sector (FAT32: its FSInfo sector and backup copies), the entries of each FAT that are not
     * free (FAT[0] and FAT[1] always), the FAT12/16 root directory's entries, and every data
     * cluster the first FAT marks in use. The FAT is read as a prefix: where it reaches a cluster
     * not placed yet after entries in use, that cluster (in every copy) is marked too — the next
     * round, once it is placed, reads on.
     */
    static void expectedNonZero(GuestFs.GuestView view, long fsStart, int clusterBits, long maxClusters, BitSet used) {
        BootSector bs = at(view, fsStart);
        if (bs == null) return;
        Marker mark = new Marker(fsStart, clusterBits, maxClusters, used);
        mark.range(0, 512);
        if (bs.type() == 32) {
            for (int s : new int[] {bs.fsInfoSector(), bs.backupBootSector(), bs.backupBootSector() + 1}) {
                if (s > 0 && s < bs.reservedSectors()) mark.range((long) s * bs.bytesPerSector(), bs.bytesPerSector());
            }
        }
        // the first FAT, read cluster by cluster while placed (entries streamed: a FAT32 FAT may be
        // hundreds of MiB; FAT12 entries straddle piece boundaries, so a few bytes carry over)
        long fatStart = fsStart + bs.fatOffset(0), fatEnd = fatStart + bs.fatBytes();
        long entries = Math.min(bs.clusters() + 2, bs.entriesInFat());
        int width = bs.type() == 32 ? 4 : 2;
        // FAT[0] (the media byte) and FAT[1] (end of chain, clean-shutdown bits) are never zero
        for (int copy = 0; copy < bs.fats(); copy++) mark.range(bs.fatOffset(copy), bs.entryOffset(2));
        byte[] carry = new byte[0];
        long carryAt = 0;               // FAT byte offset of carry[0]
        long n = 0, lastInUse = -1;
        long at = fatStart;
        boolean cut = false;
        while (at < fatEnd && n < entries) {
            int len = (int) Math.min(fatEnd - at, ((at >>> clusterBits) + 1 << clusterBits) - at);
            byte[] piece = view.read(at, len);
            if (piece == null) { cut = true; break; }
            byte[] buf = new byte[carry.length + piece.length];
            System.arraycopy(carry, 0, buf, 0, carry.length);
            System.arraycopy(piece, 0, buf, carry.length, piece.length);
            ByteBuffer fat = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            for (; n < entries; n++) {
                long off = bs.entryOffset(n) - carryAt;
                if (off + width > buf.length) break;
                long v = entryAt(bs, fat, (int) off, n);
                if (v == 0) continue;
                lastInUse = n;
                for (int copy = 0; copy < bs.fats(); copy++) mark.range(bs.fatOffset(copy) + bs.entryOffset(n), width);
                if (n >= 2 && n < bs.clusters() + 2 && bs.inUse(v)) mark.range(bs.clusterOffset(n), bs.clusterBytes());
            }
            long keepFrom = Math.min(bs.entryOffset(n) - carryAt, buf.length);
            carry = java.util.Arrays.copyOfRange(buf, (int) keepFrom, buf.length);
            carryAt += keepFrom;
            at += len;
        }
        if (cut && lastInUse >= 0 && lastInUse == n - 1) {
            // the last entry read is in use, up to the unreadable part: the table most likely
            // continues there (FAT drivers allocate from the low clusters up; once an entry is
            // free, the tables' used part has usually ended)
            for (int copy = 0; copy < bs.fats(); copy++) mark.range(bs.fatOffset(copy) + (at - fatStart), 1);
        }
        if (bs.type() != 32 && bs.rootEntries() > 0) {
            long root = fsStart + bs.rootDirOffset();
            for (long e = 0; e < bs.rootEntries(); ) {
                long g = root + e * 32;
                int count = (int) Math.min(bs.rootEntries() - e, (((g >>> clusterBits) + 1 << clusterBits) - g + 31) / 32);
                byte[] part = view.read(g, count * 32);
                if (part == null) {
                    // unread: the first root-directory cluster holds entries whenever the volume has files
                    if (e == 0) mark.range(bs.rootDirOffset(), 32);
                    break;
                }
                for (int k = 0; k < count; k++) {
                    boolean zero = true;
                    for (int i = 0; i < 32 && zero; i++) zero = part[k * 32 + i] == 0;
                    if (!zero) mark.range(bs.rootDirOffset() + (e + k) * 32, 32);
                }
                e += count;
            }
        }
    }

    /** Marks the guest clusters a byte range of the file system covers. */
    private record Marker(long fsStart, int clusterBits, long maxClusters, BitSet used) {
        void range(long fsOffset, long length) {
            long first = (fsStart + fsOffset) >>> clusterBits, last = (fsStart + fsOffset + length - 1) >>> clusterBits;
            for (long c = first; c <= last && c < maxClusters; c++) {
                if (c >= 0 && c < Integer.MAX_VALUE) used.set((int) c);
            }
        }
    }
}
