package dev.qcow2.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.crypto.ImageEncryption;
import dev.qcow2.crypto.LuksFuzzAccess;
import dev.qcow2.crypto.LuksHeader;
import dev.qcow2.crypto.Secret;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.image.ChainMap;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.repair.RepairMode;
import dev.qcow2.repair.Repairer;
import dev.qcow2.rescue.RescueReport;
import dev.qcow2.rescue.Rescuer;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.vmstate.MigrationStream;
import dev.qcow2.vmstate.VmStateBytes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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

    /** LUKS seeds are whole qcow2 images with a 2 MiB (aes-256-xts) LUKS area. */
    private static final int MAX_LUKS_INPUT = 4 << 20;
    private static final byte[] PASSPHRASE = "fuzz".getBytes(StandardCharsets.UTF_8);

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

    /**
     * The LUKS1 header (crypto/block-luks.c), twice: the input as a bare LUKS area (decode, cipher
     * spec, unlock with "fuzz"), and as a qcow2 image with crypt_method 2 (the crypto header
     * extension's area: describe as qemu-img info does, then open with the secret "fuzz" and read
     * guest data). PBKDF2 runs only when the input's slot and digest iterations are small
     * ({@link LuksFuzzAccess#MAX_UNLOCK_ITERATIONS} in all), so one input stays fast; larger
     * iteration counts are legitimately slow (QEMU runs them too) and are decoded, not unlocked.
     */
    @FuzzTest(maxDuration = "10m")
    void luksHeader(byte[] data) {
        if (data.length > MAX_LUKS_INPUT) return;
        onlyQcow2Exceptions(() -> {
            byte[] raw = Arrays.copyOf(data, Math.min(data.length, LuksHeader.LENGTH));
            LuksFuzzAccess.unlockBareArea(new FuzzInvariants.ReadOnlyBytes(data), raw, PASSPHRASE.clone());
        });
        onlyQcow2Exceptions(() -> {
            FuzzInvariants.ReadOnlyBytes storage = new FuzzInvariants.ReadOnlyBytes(data);
            Qcow2Header header = Qcow2Header.read(storage);
            if (header.cryptMethod() != Qcow2Header.CRYPT_LUKS) return;
            ImageEncryption.describe(storage.describe(), storage, header);
            ImageEncryption.LuksArea area = ImageEncryption.luksArea(storage.describe(), storage, header);
            if (!LuksFuzzAccess.fastToUnlock(area.header())) return;
            try (Secret secret = Secret.ofBytes(PASSPHRASE.clone());
                 Qcow2Image image = Qcow2Image.open(storage, null, OpenOptions.defaults().withSecrets(SecretLookup.topOnly(secret)))) {
                readSpread(image, 1L << 20);
            }
        });
    }

    /**
     * The migration-stream parser ({@link MigrationStream}, the one that reads savevm's VM state
     * out of a snapshot) over the input as the raw stream. The sink checks what the parser
     * promises: every page lies inside a block of the block list it announced first.
     */
    @FuzzTest(maxDuration = "10m")
    void vmstateStream(byte[] data) {
        if (data.length > MAX_INPUT) return;
        onlyQcow2Exceptions(() -> {
            VmStateBytes stream = VmStateBytes.of("fuzz.vmstate", "fuzz", data.length,
                    (at, buf, off, length) -> System.arraycopy(data, Math.toIntExact(at), buf, off, length));
            MigrationStream.read(stream, new CheckingSink());
        });
    }

    /** Pages must fall inside the blocks the stream listed, with the page size it announced. */
    private static final class CheckingSink implements MigrationStream.RamSink {
        private final Map<String, Long> blocks = new HashMap<>();
        private int pageSize;

        @Override public void blockList(Map<String, Long> list, String machineType, int pageSize, long streamOffset) {
            blocks.putAll(list);
            this.pageSize = pageSize;
        }

        @Override public void page(String block, long offset, byte[] page, long streamOffset) { inside(block, offset, page.length); }

        @Override public void zero(String block, long offset, int fill, long streamOffset) { inside(block, offset, pageSize); }

        private void inside(String block, long offset, int length) {
            Long used = blocks.get(block);
            if (used == null || offset < 0 || length != pageSize || offset > used - length) {
                throw new AssertionError("page of " + length + " bytes at 0x" + Long.toHexString(offset) + " of block '" + block
                        + "' outside the announced block list " + blocks + " (page size " + pageSize + ")");
            }
        }
    }

    /**
     * Rescue of a damaged image (dev.qcow2.rescue.Rescuer: header or inferred geometry, host scan,
     * table, signature and allocation-order placement, the new image written by the writer): the
     * damaged file must be unchanged, and the rescued image no larger than its metadata (64 MiB
     * covers QEMU's 32 MiB L1 limit and its refcounts) plus one cluster per guest cluster the
     * input can address (each host cluster holds at most cluster/8 L2 entries, or is itself placed).
     */
    @FuzzTest(maxDuration = "10m")
    void rescue(byte[] data) throws IOException {
        if (data.length > 128 * 1024) return;
        Path dir = Files.createTempDirectory("fuzz-rescue");
        Path damaged = dir.resolve("damaged.qcow2");
        Path out = dir.resolve("rescued.qcow2");
        try {
            Files.write(damaged, data);
            RescueReport[] report = new RescueReport[1];
            onlyQcow2Exceptions(() -> report[0] = Rescuer.rescue(damaged, out));
            if (!Arrays.equals(Files.readAllBytes(damaged), data)) throw new AssertionError("rescue changed the damaged file");
            if (report[0] != null) {
                long cluster = report[0].clusterSize();
                long hostClusters = (data.length + cluster - 1) / cluster;
                long bound = (64L << 20) + hostClusters * (cluster / 8 + 1) * cluster;
                long size = Files.size(out);
                if (size > bound) {
                    throw new AssertionError("rescued image of " + size + " bytes from " + data.length + " bytes (bound " + bound + ")");
                }
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** Reads 64 KiB pieces spread over the guest, at most {@code budget} bytes. */
    private static void readSpread(Qcow2Image image, long budget) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long size = image.size();
        long read = 0;
        long step = Math.max(buf.length, size / 64);
        for (long at = 0; at < size && read < budget; at += step) {
            int n = (int) Math.min(buf.length, size - at);
            image.read(GuestOffset.of(at), buf, 0, n);
            read += n;
        }
    }
}
