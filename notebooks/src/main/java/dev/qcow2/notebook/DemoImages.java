package dev.qcow2.notebook;

import dev.qcow2.units.GuestOffset;
import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.format.L2Entry;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.repair.RefcountEditor;
import dev.qcow2.snapshot.Snapshots;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/**
 * The notebooks' input images, made with the toolkit alone (ImageCreator, Qcow2Writer,
 * Snapshots) so every notebook runs anywhere. 4 MiB disks with 64 KiB clusters and 16-bit
 * refcounts (the defaults).
 */
public final class DemoImages {
    public static final int CLUSTER = 65536;

    private DemoImages() { }

    /** A filled cluster: {@code n} copies of {@code value}, then zeros. */
    public static byte[] fill(int value, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /**
     * A healthy image with one snapshot 'base': data in guest clusters 0-5, compressed clusters
     * 8-9, then (after the snapshot) clusters 1 and 12 rewritten, so 1 is copied on write and the
     * others stay shared with the snapshot (refcount 2).
     */
    public static Path healthy(Path file) throws IOException {
        ImageCreator.create(file, CreateOptions.parse("size=4M"));
        try (Qcow2Writer w = Qcow2Writer.open(file, WriteOptions.defaults())) {
            for (int c = 0; c < 6; c++) w.write((long) c * CLUSTER, fill(0x10 + c, CLUSTER));
            w.writeCompressed(8L * CLUSTER, fill(0x88, CLUSTER));
            w.writeCompressed(9L * CLUSTER, fill(0x99, CLUSTER));
        }
        try (Snapshots s = Snapshots.open(file)) {
            s.create("base", Instant.parse("2024-01-01T00:00:00Z"));
        }
        try (Qcow2Writer w = Qcow2Writer.open(file, WriteOptions.defaults())) {
            w.write(CLUSTER, fill(0x21, CLUSTER));
            w.write(12L * CLUSTER, fill(0x2c, 4096));
        }
        return file;
    }

    /**
     * {@link #healthy} damaged the way a crash or a bad tool leaves images: two leaked clusters
     * (refcount 1, referenced by nothing, at the end of the file) and one refcount too low (guest
     * cluster 2, shared with the snapshot, has refcount 1 instead of 2). qemu-img check reports 2
     * leaks and 2 corruptions (the refcount and the COPIED flag it now contradicts).
     */
    public static Path damaged(Path file) throws IOException {
        healthy(file);
        long shared;
        try (Qcow2Image img = Qcow2Image.open(file, OpenOptions.defaults())) {
            shared = ((L2Entry.Normal) img.mapper().entry(new GuestOffset(2L * CLUSTER))).hostOffset() / CLUSTER;
        }
        RefcountEditor.leakOneCluster(file, new byte[0]);
        RefcountEditor.leakOneCluster(file, new byte[0]);
        RefcountEditor.set(file, shared, 1);
        return file;
    }

    /** Appends one cluster to the file and gives it refcount 1: a leak. Returns its index. */
    public static long leakOneCluster(Path file) throws IOException {
        return RefcountEditor.leakOneCluster(file, new byte[0]);
    }

    /**
     * A timeline: 'install' (clusters 0-7 written), 'configure' (2-3 rewritten, 10-12 added),
     * 'update' (0 zeroed, 5 discarded, 4 rewritten compressed), then the active state rewrites
     * 20-29 and cluster 2 again.
     */
    public static Path timeline(Path file) throws IOException {
        ImageCreator.create(file, CreateOptions.parse("size=4M"));
        write(file, w -> { for (int c = 0; c < 8; c++) w.write((long) c * CLUSTER, fill(0x40 + c, CLUSTER)); });
        snapshot(file, "install", "2024-03-01T10:00:00Z");
        write(file, w -> {
            w.write(2L * CLUSTER, fill(0x52, CLUSTER));
            w.write(3L * CLUSTER, fill(0x53, 512));
            for (int c = 10; c < 13; c++) w.write((long) c * CLUSTER, fill(0x60 + c, CLUSTER));
        });
        snapshot(file, "configure", "2024-03-02T10:00:00Z");
        write(file, w -> {
            w.writeZeroes(0, CLUSTER);
            w.discard(5L * CLUSTER, CLUSTER);
            w.writeCompressed(4L * CLUSTER, fill(0x74, CLUSTER));
        });
        snapshot(file, "update", "2024-03-03T10:00:00Z");
        write(file, w -> {
            for (int c = 20; c < 30; c++) w.write((long) c * CLUSTER, fill(0x80 + c, CLUSTER));
            w.write(2L * CLUSTER + 100, fill(0x99, 10));
        });
        return file;
    }

    /**
     * A copy of {@code src} with one structure zeroed in place, as the rescue notebook damages
     * images: {@code header} (the first cluster), {@code l1} (the active L1 table) or {@code l2}
     * (every L2 table the active L1 names; the snapshots' own copies survive).
     */
    public static Path damagedCopy(Path src, Path dst, String what) throws IOException {
        java.nio.file.Files.copy(src, dst, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        dev.qcow2.format.Qcow2Header h;
        long[] l1;
        try (var in = dev.qcow2.storage.FileStorage.openReadOnly(dst)) {
            h = dev.qcow2.format.Qcow2Header.read(in);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) h.l1Size() * 8);
            in.readFully(h.l1TableOffset(), b);
            l1 = new long[(int) h.l1Size()];
            b.flip().asLongBuffer().get(l1);
        }
        try (var ch = java.nio.channels.FileChannel.open(dst, java.nio.file.StandardOpenOption.WRITE)) {
            switch (what) {
                case "header" -> ch.write(java.nio.ByteBuffer.allocate(h.clusterSize()), 0);
                case "l1" -> ch.write(java.nio.ByteBuffer.allocate(l1.length * 8), h.l1TableOffset());
                case "l2" -> {
                    for (long e : l1) {
                        long l2 = e & dev.qcow2.format.L1Entry.OFFSET_MASK;
                        if (l2 != 0) ch.write(java.nio.ByteBuffer.allocate(h.clusterSize()), l2);
                    }
                }
                default -> throw new IllegalArgumentException("damage: header, l1 or l2, not " + what);
            }
        }
        return dst;
    }

    interface Writes { void apply(Qcow2Writer w) throws IOException; }

    private static void write(Path file, Writes writes) throws IOException {
        try (Qcow2Writer w = Qcow2Writer.open(file, WriteOptions.defaults())) {
            writes.apply(w);
        }
    }

    private static void snapshot(Path file, String name, String date) throws IOException {
        try (Snapshots s = Snapshots.open(file)) {
            s.create(name, Instant.parse(date));
        }
    }
}
