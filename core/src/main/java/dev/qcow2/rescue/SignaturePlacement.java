package dev.qcow2.rescue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * Data clusters placed by guest structures that name their own position (inferred): MBR/GPT at
 * guest 0, ext2/3/4 superblock copies, group 0's descriptor and inode table, the first block of
 * every directory.
 */
final class SignaturePlacement extends Evidence {
    SignaturePlacement(Evidence shared) { super(shared); }

    /** Places MBR/GPT and ext superblock copies found in unplaced host clusters; returns the file-system starts. */
    List<Long> placeBySignatures() throws IOException {
        int anchors = 0;
        for (int h : unitsInHostOrder()) {
            if (!candidate(h)) continue;
            if (!map.placed(0) && GuestFs.isMbr(plainAt(h, 0))) {
                placeUnit(0, h, Placement.FS_SIGNATURE);
                anchors++;
                structures.add(new RescueReport.Structure("guest partition table (MBR/GPT)", unitHostByte(h), "found", "boot signature and partition entries: guest offset 0"));
            }
        }
        List<Long> starts = GuestFs.partitionStarts(view);
        if (positionalCipher()) {
            // legacy AES: a superblock shows only when decrypted at its own guest position, so
            // each candidate is tried at the positions superblocks have (group 0's first, then
            // the backup copies the placed primary names)
            for (int pass = 0; pass < 2; pass++) anchors += superblocksAtKnownPositions(starts);
        } else {
            for (int h : unitsInHostOrder()) {
                if (!candidate(h)) continue;
                ByteBuffer c = plainAt(h, 0);
                for (long start : starts) {
                    long g = signatureGuestCluster(c, start);
                    if (g >= 0 && !map.placed(g) && !GuestFs.isMbr(c)) {
                        placeUnit(g, h, Placement.FS_SIGNATURE);
                        anchors++;
                        break;
                    }
                }
            }
        }
        if (anchors > 0) structures.add(new RescueReport.Structure("guest file-system signatures", -1, "found",
                anchors + " host clusters placed by a partition table or an ext2/3/4 superblock copy naming its own offset"));
        for (long start : starts) placeExtObjects(start);
        return starts;
    }

    /**
     * Legacy AES: candidates decrypted at each guest cluster a superblock may sit in (the primary
     * at 1024 bytes into each file system; once it is placed, every group's backup copy) and
     * placed where the decrypted superblock names that very position.
     */
    private int superblocksAtKnownPositions(List<Long> starts) throws IOException {
        java.util.TreeSet<Long> targets = new java.util.TreeSet<>();
        for (long start : starts) {
            targets.add((start + 1024) >>> geo.clusterBits());
            byte[] sbBytes = view.read(start + 1024, 1024);
            GuestFs.Superblock sb = sbBytes == null ? null : GuestFs.Superblock.parse(GuestFs.le(sbBytes), 0);
            if (sb != null) for (int grp = 1; grp < sb.groups(); grp++) targets.add((start + sb.copyOffset(grp)) >>> geo.clusterBits());
        }
        targets.removeIf(map::placed);
        int anchors = 0;
        for (int h : unitsInHostOrder()) {
            if (targets.isEmpty()) break;
            if (!candidate(h)) continue;
            for (long g : targets) {
                ByteBuffer c = plainAt(h, g);
                boolean hit = false;
                for (long start : starts) if (signatureGuestCluster(c, start) == g) hit = true;
                if (hit) {
                    placeUnit(g, h, Placement.FS_SIGNATURE);
                    targets.remove(g);
                    anchors++;
                    break;
                }
            }
        }
        return anchors;
    }

    /**
     * ext2/3/4 objects that name themselves: group 0's inode table (inode 2 is the root
     * directory) at the block the group descriptor gives, then the first block of every
     * directory (its "." entry names the directory's inode, ".." follows) at the block its inode
     * gives. Each found in an unplaced host cluster at the in-cluster offset its guest block
     * implies.
     */
    private void placeExtObjects(long fsStart) throws IOException {
        byte[] sbBytes = view.read(fsStart + 1024, 1024);
        GuestFs.Superblock sb = sbBytes == null ? null : GuestFs.Superblock.parse(GuestFs.le(sbBytes), 0);
        if (sb == null) return;
        int found = 0;
        long gdt = fsStart + (sb.firstDataBlock() + 1L) * sb.blockSize();
        if (!map.placed(gdt >>> geo.clusterBits())) {
            int off = (int) (gdt & (geo.clusterSize() - 1));
            for (int h : unitsInHostOrder()) {
                if (candidate(h) && GuestFs.plausibleDescriptor(plainAt(h, gdt >>> geo.clusterBits()), off, sb)) {
                    placeUnit(gdt >>> geo.clusterBits(), h, Placement.FS_SIGNATURE);
                    found++;
                    break;
                }
            }
        }
        long table = GuestFs.inodeTable(view, fsStart, sb, 0);
        if (table >= 0) {
            long at = fsStart + table * sb.blockSize();
            long g = at >>> geo.clusterBits();
            int off = (int) (at & (geo.clusterSize() - 1));
            if (!map.placed(g)) {
                for (int h : unitsInHostOrder()) {
                    if (candidate(h) && GuestFs.inodeTableStart(plainAt(h, g), off, sb.inodeSize())) {
                        placeUnit(g, h, Placement.FS_SIGNATURE);
                        found++;
                        break;
                    }
                }
            }
        }
        java.util.Map<Long, Long> dirs = GuestFs.directoryFirstBlocks(view, fsStart);
        if (!dirs.isEmpty()) {
            java.util.Map<Long, Long> wanted = new java.util.HashMap<>(); // guest byte -> inode
            for (var e : dirs.entrySet()) {
                long at = fsStart + e.getValue() * sb.blockSize();
                if (!map.placed(at >>> geo.clusterBits())) wanted.put(at, e.getKey());
            }
            for (int h : unitsInHostOrder()) {
                if (wanted.isEmpty()) break;
                if (!candidate(h)) continue;
                ByteBuffer c = null;
                for (var it = wanted.entrySet().iterator(); it.hasNext(); ) {
                    var w = it.next();
                    long g = w.getKey() >>> geo.clusterBits();
                    if (map.placed(g)) { it.remove(); continue; }
                    if (c == null || positionalCipher()) c = plainAt(h, g);
                    if (GuestFs.directoryStart(c, (int) (w.getKey() & (geo.clusterSize() - 1)), w.getValue())) {
                        placeUnit(g, h, Placement.FS_SIGNATURE);
                        found++;
                        it.remove();
                        break;
                    }
                }
            }
        }
        if (found > 0) structures.add(new RescueReport.Structure("ext2/3/4 inode table and directories", -1, "found",
                found + " host clusters placed by content naming their own position (root inode, directory \".\" entries)"));
    }
}
