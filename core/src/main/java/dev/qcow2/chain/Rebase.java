package dev.qcow2.chain;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.storage.BorrowedStorage;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.Encryption;
import java.util.Optional;
import dev.qcow2.storage.Zeros;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code qemu-img rebase} (7.2's img_rebase). Safe mode: every range the image does not
 * allocate itself is read through the old backing chain and from the new backing file; where
 * they differ (compared per 512-byte sector), the old content is written into the image (zero
 * writes past the old backing file's end), so the guest view stays the same; then the header
 * names the new backing file. Unsafe mode only rewrites the name and format. An empty or
 * absent name removes the backing file.
 *
 * <p>Crash safety: the data writes go through {@link Qcow2Writer} (at worst leaked clusters);
 * the header is rewritten in one write after all of them are flushed, so an interrupted rebase
 * leaves the old chain with the same guest content.
 */
public final class Rebase {
    static final int IO_BUF = 2 << 20;                  // qemu-img's IO_BUF_SIZE
    private static final int SECTOR = 512;

    /** Format names qemu-img 7.2 knows (its "Invalid format name" check); only qcow2 and raw can be opened here. */
    static final Set<String> FORMATS = Set.of("qcow2", "raw", "qcow", "qed", "vmdk", "vdi", "vhdx", "vpc",
            "parallels", "luks", "dmg", "cloop", "bochs", "file", "host_device", "nbd");

    /**
     * @param backing the new backing file name as it is to be recorded (relative names are
     *                resolved against the image's directory), "" or null to remove it
     * @param format  the new backing file's format (required with a name)
     * @param unsafe  only rewrite the header (qemu-img's {@code -u})
     * @param follow  which files named inside the image, its old backing chain and the new backing
     *                file's chain are opened ({@link FollowPolicy}); the new backing file itself is
     *                named by the user, so it is trusted and its own chain is gated from its directory
     */
    public record Options(String backing, String format, boolean unsafe, FollowPolicy follow) {
        public Options {
            if (follow == null) follow = FollowPolicy.imageTree();
        }

        public Options(String backing, String format, boolean unsafe) { this(backing, format, unsafe, null); }

        String name() { return backing == null || backing.isEmpty() ? null : backing; }
    }

    private Rebase() { }

    /** Checks what qemu-img checks before opening anything. */
    public static void validate(Options o) throws Qcow2Exception {
        if (o.format() != null && !FORMATS.contains(o.format())) {
            throw new Qcow2Exception(null, "Invalid format name: '" + o.format() + "'");
        }
        if (o.name() != null && o.format() == null) {
            throw new Qcow2Exception(null, "Could not change the backing file to '" + o.name() + "': backing format must be specified");
        }
    }

    public static void rebase(Path image, Options o, Progress progress) throws IOException {
        rebase(image, o, SecretLookup.none(), progress);
    }

    /**
     * {@link #rebase(Path, Options, Progress)} with the secrets of encrypted layers: depth 0 is
     * the image, depth 1 its old backing file and also the new one (qemu-img rebase's
     * {@code backing.encrypt.key-secret}; a {@code json:} name's own key-secret wins).
     */
    public static void rebase(Path image, Options o, SecretLookup secrets, Progress progress) throws IOException {
        validate(o);
        WritableFileStorage file = WritableFileStorage.open(image);
        try {
            rebase(file, image, o, secrets, progress);
        } finally {
            file.close();
        }
    }

    /** Rebases the image on {@code file}; {@code image} (may be null) resolves relative backing names. Closes nothing. */
    public static void rebase(WritableStorage file, Path image, Options o, Progress progress) throws IOException {
        rebase(file, image, o, SecretLookup.none(), progress);
    }

    /** {@link #rebase(WritableStorage, Path, Options, Progress)} with the secrets of encrypted layers. */
    public static void rebase(WritableStorage file, Path image, Options o, SecretLookup secrets, Progress progress) throws IOException {
        validate(o);
        if (o.unsafe()) {
            Qcow2Header header = Qcow2Header.read(file);
            refuseUnwritable(file.describe(), header);
            // qemu-img opens the image with its key even when only the header changes
            try (Encryption e = Encryption.open(file.describe(), file, header, secrets, new SecretLookup.Layer(image, 0, Optional.empty()))) {
                if (e instanceof Encryption.Locked locked) throw locked.refusal(file.describe());
            }
            BackingHeader.write(new SyncedStorage(file), o.name(), o.format());
            return;
        }
        Qcow2Writer writer = Qcow2Writer.open(new BorrowedStorage(file), image, WriteOptions.defaults().withSecrets(secrets).withFollow(o.follow()));
        try (writer; BlockDevice newBacking = o.name() == null ? null : NewBacking.open(image, o.name(), o.format(), secrets, o.follow())) {
            copyDifferences(writer, newBacking, progress);
            writer.flush();
            BackingHeader.write(writer.resizeHooks().storage(), o.name(), o.format());
        }
    }

    static void refuseUnwritable(String res, Qcow2Header h) throws Qcow2Exception {
        if (h.isCorrupt()) throw new Qcow2Exception(res, "qcow2: Image is corrupt; cannot be opened read/write");
        dev.qcow2.format.HeaderContradiction.refuse(res, h, false);   // qcow2_do_open
        if (h.isDirty()) throw new dev.qcow2.DirtyImageException(res);
    }

    /** img_rebase's loop: old content into the image wherever it is unallocated and old and new differ. */
    private static void copyDifferences(Qcow2Writer w, BlockDevice newBacking, Progress progress) throws IOException {
        long size = w.size();
        long unit = w.geometry().subclusterSize();
        long oldEnd = roundUp(Math.max(0, w.resizeHooks().backingSize()));
        long newEnd = newBacking == null ? 0 : roundUp(newBacking.size());
        byte[] oldBuf = new byte[IO_BUF];
        byte[] newBuf = new byte[IO_BUF];
        long off = 0;
        while (off < size) {
            long next = Math.min(size, (off / unit + 1) * unit);
            if (w.allocated(off)) {
                off = next;
                continue;
            }
            long end = next;
            while (end < size && end - off < IO_BUF && !w.allocated(end)) end = Math.min(size, end + unit);
            end = Math.min(end, off + IO_BUF);
            if (off < oldEnd) end = Math.min(end, oldEnd);
            if (off < newEnd) end = Math.min(end, newEnd);
            int n = (int) (end - off);
            w.read(off, oldBuf, 0, n);
            readNew(newBacking, off, newBuf, n);
            writeDifferences(w, off, oldBuf, newBuf, n, off >= oldEnd);
            off = end;
            progress.update(off, size);
        }
        progress.update(size, size);
    }

    private static void readNew(BlockDevice dev, long off, byte[] buf, int n) throws IOException {
        long avail = dev == null ? 0 : Math.max(0, Math.min(n, dev.size() - off));
        if (avail > 0) dev.read(off, buf, 0, (int) avail);
        Zeros.fill(buf, (int) avail, n);
    }

    /** qemu-img's compare_buffers walk: runs of sectors that differ are written (or zeroed past the old backing's end). */
    private static void writeDifferences(Qcow2Writer w, long off, byte[] oldBuf, byte[] newBuf, int n, boolean oldIsZero)
            throws IOException {
        int pos = 0;
        while (pos < n) {
            boolean differs = sectorDiffers(oldBuf, newBuf, pos, n);
            int run = pos;
            while (run < n && sectorDiffers(oldBuf, newBuf, run, n) == differs) run += SECTOR;
            run = Math.min(run, n);
            if (differs) {
                if (oldIsZero) w.writeZeroes(off + pos, run - pos);
                else w.write(off + pos, oldBuf, pos, run - pos);
            }
            pos = run;
        }
    }

    private static boolean sectorDiffers(byte[] a, byte[] b, int from, int n) {
        int to = Math.min(n, from + SECTOR);
        return java.util.Arrays.mismatch(a, from, to, b, from, to) >= 0;
    }

    private static long roundUp(long v) { return (v + SECTOR - 1) / SECTOR * SECTOR; }
}
