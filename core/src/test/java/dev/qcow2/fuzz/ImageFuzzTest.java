package dev.qcow2.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.image.ChainMap;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.repair.RepairMode;
import dev.qcow2.repair.Repairer;
import dev.qcow2.units.GuestOffset;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.qcow2.fuzz.FuzzInvariants.GUEST_BYTES_PER_INPUT;
import static dev.qcow2.fuzz.FuzzInvariants.onlyQcow2Exceptions;

/**
 * Coverage-guided fuzz targets over whole image files. By default (mvn test) each method runs
 * once per committed input under src/test/resources/dev/qcow2/fuzz/ImageFuzzTestInputs/METHOD/
 * (seeds made by qemu-img plus one file per finding); JAZZER_FUZZ=1 fuzzes
 * (scripts/fuzz.sh METHOD SECONDS). Each input runs under a deadline (maxDuration per target,
 * Jazzer's -timeout per input) and reads at most {@link FuzzInvariants#GUEST_BYTES_PER_INPUT}
 * guest bytes, so a 1 EiB virtual size costs no more than a small one.
 */
class ImageFuzzTest {

    private static final int MAX_INPUT = 1 << 20;

    /** Header and extension parsing (also in check mode, which tolerates more). */
    @FuzzTest(maxDuration = "10m")
    void header(byte[] data) {
        onlyQcow2Exceptions(() -> Qcow2Header.read(new FuzzInvariants.ReadOnlyBytes(data)));
        onlyQcow2Exceptions(() -> Qcow2Header.read(new FuzzInvariants.ReadOnlyBytes(data), true));
    }

    /** Open (no backing or data file followed) and read the guest, bounded by a byte budget. */
    @FuzzTest(maxDuration = "10m")
    void openAndRead(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            try (Qcow2Image image = Qcow2Image.open(new FuzzInvariants.ReadOnlyBytes(data), null, OpenOptions.defaults())) {
                byte[] buf = new byte[64 * 1024];
                long size = image.size();
                long read = 0;
                // sample the start, then spread reads over the whole guest
                long step = Math.max(buf.length, size / 64);
                for (long at = 0; at < size && read < GUEST_BYTES_PER_INPUT; at += step) {
                    int n = (int) Math.min(buf.length, size - at);
                    image.read(GuestOffset.of(at), buf, 0, n);
                    read += n;
                }
            }
        });
    }

    /** check (qemu-img check): every finding reported, nothing thrown but refusals. */
    @FuzzTest(maxDuration = "10m")
    void check(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            try (Qcow2Image image = Qcow2Image.open(new FuzzInvariants.ReadOnlyBytes(data), null, OpenOptions.forChecking())) {
                ImageChecker.check(image);
            }
        });
    }

    /** map over the whole guest (qemu-img map), bounded in entries by the image's own tables. */
    @FuzzTest(maxDuration = "10m")
    void map(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            try (Qcow2Image image = Qcow2Image.open(new FuzzInvariants.ReadOnlyBytes(data), null, OpenOptions.defaults())) {
                ChainMap.walk(image, 0, Math.min(image.size(), 1L << 40));
            }
        });
    }

    /** Snapshot table parsing, strict and lenient (check's), and opening each snapshot's view. */
    @FuzzTest(maxDuration = "10m")
    void snapshotTable(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            FuzzInvariants.ReadOnlyBytes storage = new FuzzInvariants.ReadOnlyBytes(data);
            Qcow2Header header = Qcow2Header.read(storage, true);
            SnapshotTable.read(storage, header, true);
            SnapshotTable.read(storage, header);
        });
    }

    /** Bitmap directory parsing and each bitmap's table. */
    @FuzzTest(maxDuration = "10m")
    void bitmapDirectory(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            FuzzInvariants.ReadOnlyBytes storage = new FuzzInvariants.ReadOnlyBytes(data);
            Qcow2Header header = Qcow2Header.read(storage, true);
            BitmapDirectory.read(storage, header);
        });
        onlyQcow2Exceptions(() -> {
            try (Qcow2Image image = Qcow2Image.open(new FuzzInvariants.ReadOnlyBytes(data), null, OpenOptions.defaults())) {
                for (var entry : image.bitmaps()) image.bitmap(entry);
            }
        });
    }

    /** Repair (-r all) of a copy in a temporary directory; afterwards the copy must open. */
    @FuzzTest(maxDuration = "10m")
    void repairCopy(byte[] data) throws Exception {
        if (data.length > 256 * 1024) return;
        Path dir = Files.createTempDirectory("fuzz-repair");
        Path copy = dir.resolve("copy.qcow2");
        try {
            Files.write(copy, data);
            onlyQcow2Exceptions(() -> Repairer.repair(copy, RepairMode.ALL, line -> { }));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** Deflate (raw, as QEMU writes it) decoding of one cluster; the first byte picks the cluster size. */
    @FuzzTest(maxDuration = "10m")
    void deflateCluster(byte[] data) {
        if (data.length < 1) return;
        byte[] out = new byte[512 << (data[0] & 7)];
        try {
            byte[] in = shift(data);
            ClusterDecompressor.of(CompressionType.ZLIB).decompress(in, in.length, out);
        } catch (RuntimeException e) {
            throw new AssertionError("deflate decoder threw " + e, e);
        }
    }

    /** Zstd decoding of one cluster; the first byte picks the cluster size. */
    @FuzzTest(maxDuration = "10m")
    void zstdCluster(byte[] data) {
        if (data.length < 1) return;
        byte[] out = new byte[512 << (data[0] & 7)];
        try {
            byte[] in = shift(data);
            ClusterDecompressor.of(CompressionType.ZSTD).decompress(in, in.length, out);
        } catch (RuntimeException e) {
            throw new AssertionError("zstd decoder threw " + e, e);
        }
    }

    private static byte[] shift(byte[] data) {
        return java.util.Arrays.copyOfRange(data, 1, data.length);
    }
}
