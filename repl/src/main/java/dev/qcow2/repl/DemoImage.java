package dev.qcow2.repl;

import dev.qcow2.create.ImageCreator;
import dev.qcow2.create.OptionList;
import dev.qcow2.repair.RefcountEditor;
import dev.qcow2.snapshot.Snapshots;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/**
 * The image {@code qcow2 repl} opens when no file is given: small (8 MiB guest, 64 KiB
 * clusters), made only by the core writer, with something for every command to show:
 * <ul>
 *   <li>a backing file {@code base.qcow2} (clusters 0-7 hold 0xBB; the overlay leaves 6-7 to it);
 *   <li>snapshot {@code before} after clusters 0-3 were written with 0x11 and "BOOTLOADER" at 0x30010;
 *   <li>then cluster 1 rewritten (0x22), clusters 16-17 written compressed, cluster 2 zeroed,
 *       clusters 4-5 zeroed over the backing file's data (a zeroed range); snapshot {@code after};
 *   <li>one leaked cluster: a cluster appended to the file holding the text {@link #LEAKED_TEXT},
 *       with refcount 1 and no reference (raw refcount bump, as a crash between allocation and
 *       the L2 update leaves it).
 * </ul>
 */
public final class DemoImage {
    public static final int CLUSTER = 65536;
    public static final long SIZE = 8L << 20;
    public static final String LEAKED_TEXT = "lost cluster: nobody references me";

    private DemoImage() { }

    /** Builds the demo in {@code dir} and returns the overlay, {@code dir/demo.qcow2}. */
    public static Path create(Path dir) throws IOException {
        Path base = dir.resolve("base.qcow2");
        Path demo = dir.resolve("demo.qcow2");
        ImageCreator.create(base, new OptionList().add("size=" + SIZE), false);
        try (Qcow2Writer w = Qcow2Writer.open(base, WriteOptions.defaults())) {
            w.write(0, filled(8 * CLUSTER, 0xBB));
        }
        ImageCreator.create(demo, new OptionList().add("size=" + SIZE + ",backing_file=base.qcow2,backing_fmt=qcow2"), false);
        try (Qcow2Writer w = Qcow2Writer.open(demo, WriteOptions.defaults())) {
            w.write(0, filled(4 * CLUSTER, 0x11));
            w.write(3 * CLUSTER + 16, "BOOTLOADER".getBytes(StandardCharsets.US_ASCII));
        }
        snapshot(demo, "before");
        try (Qcow2Writer w = Qcow2Writer.open(demo, WriteOptions.defaults())) {
            w.write(CLUSTER, filled(CLUSTER, 0x22));
            w.writeCompressed(16L * CLUSTER, text(CLUSTER, "compressible text, cluster 16. "));
            w.writeCompressed(17L * CLUSTER, text(CLUSTER, "compressible text, cluster 17. "));
            w.writeZeroes(2L * CLUSTER, CLUSTER);
            w.writeZeroes(4L * CLUSTER, 2L * CLUSTER);          // over the backing file's 0xBB: zero entries
        }
        snapshot(demo, "after");
        leakOneCluster(demo);
        return demo;
    }

    private static void snapshot(Path image, String name) throws IOException {
        try (Snapshots s = Snapshots.open(image)) {
            s.create(name, Instant.now());
        }
    }

    /** One cluster holding {@link #LEAKED_TEXT}, referenced by nothing, refcount 1: exactly one leak for qemu-img check. */
    static void leakOneCluster(Path image) throws IOException {
        RefcountEditor.leakOneCluster(image, LEAKED_TEXT.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] text(int n, String phrase) {
        byte[] p = phrase.getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = p[i % p.length];
        return b;
    }
}
