package dev.qcow2.write;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.BitmapReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The persistent dirty bitmaps of an image open for writing, kept as QEMU 7.2 keeps them
 * (block/qcow2-bitmap.c):
 * <ul>
 * <li>open ({@code qcow2_load_dirty_bitmaps}): every bitmap is loaded; one already IN_USE is
 * inconsistent (no bits, never stored); every other one is marked IN_USE in the directory,
 * written in place between clearing and setting the autoclear bit
 * ({@code update_ext_header_and_dir_in_place}), so a crash from here on leaves IN_USE bitmaps,
 * which {@code qemu-img check/info} then report as inconsistent, never a corrupt image;</li>
 * <li>writes, zero writes, discards and compressed writes set the bits of every enabled
 * consistent bitmap over the request's range ({@code bdrv_set_dirty});</li>
 * <li>close ({@code qcow2_store_persistent_dirty_bitmaps}): each consistent bitmap gets new data
 * clusters (only clusters holding a set bit) and a new table, a new directory is written and
 * flushed, the header is pointed at it with the autoclear bit set, and only then are the old
 * directory, tables and data clusters freed: a crash before the header write leaks the new
 * clusters, one after it leaks the old ones.</li>
 * </ul>
 */
public final class BitmapTracker {
    /** QCOW2_MAX_BITMAPS and QCOW2_MAX_BITMAP_DIRECTORY_SIZE. */
    public static final int MAX_BITMAPS = 65535;
    public static final long MAX_DIRECTORY_SIZE = 1024L * MAX_BITMAPS;

    private final SyncedStorage storage;
    private final ClusterAllocator allocator;
    private final int clusterSize;
    private final int version;
    private final BitmapHeader header;
    /** The directory as on disk (IN_USE flags included), in order; what close replaces. */
    private List<BitmapDirectoryEntry> onDisk;
    /** By name, directory order first, then added ones. */
    private final Map<String, PersistentBitmap> bitmaps = new LinkedHashMap<>();
    private boolean removed;
    private long diskSize;

    private BitmapTracker(SyncedStorage storage, ClusterAllocator allocator, Qcow2Header h, long diskSize) {
        this.storage = storage;
        this.allocator = allocator;
        this.clusterSize = h.clusterSize();
        this.version = h.version();
        this.header = new BitmapHeader(storage, h);
        this.diskSize = diskSize;
        this.onDisk = List.of();
    }

    /** Loads the bitmaps of a writable image and marks the consistent ones IN_USE (see the class comment). */
    static BitmapTracker open(SyncedStorage storage, ClusterAllocator allocator, Qcow2Header h, long diskSize) throws IOException {
        BitmapTracker t = new BitmapTracker(storage, allocator, h, diskSize);
        if (t.header.extension() == null) return t;
        t.onDisk = BitmapDirectory.read(storage.raw(), h);
        boolean needsUpdate = false;
        List<BitmapDirectoryEntry> marked = new ArrayList<>();
        for (BitmapDirectoryEntry e : t.onDisk) {
            boolean inconsistent = e.inUse();
            PersistentBitmap b = new PersistentBitmap(e.name(), e.granularityBits(), e.auto(), inconsistent, e, diskSize);
            if (!inconsistent) t.load(h, e, b);
            t.bitmaps.put(e.name(), b);
            needsUpdate |= !inconsistent;
            marked.add(withFlags(e, e.flags() | BitmapDirectoryEntry.FLAG_IN_USE));
        }
        if (needsUpdate) {
            // update_ext_header_and_dir_in_place: without the autoclear bit a reader ignores the
            // directory while it is rewritten; same size, same place.
            HeaderExtension.Bitmaps ext = t.header.extension();
            t.header.setAutoclearBit(false);
            storage.write(ext.directoryOffset(), BitmapDirectory.encode(marked));
            storage.flush();
            t.header.setAutoclearBit(true);
            t.onDisk = BitmapDirectory.read(storage.raw(), Qcow2Header.read(storage.raw()));
        }
        return t;
    }

    private void load(Qcow2Header h, BitmapDirectoryEntry e, PersistentBitmap b) throws IOException {
        long[] table = BitmapReader.load(storage.raw(), h, e).table();
        long bitsPerCluster = (long) clusterSize * 8;
        for (int i = 0; i < table.length && (long) i * bitsPerCluster < b.bitCount(); i++) {
            BitmapDirectory.TableEntry t = new BitmapDirectory.TableEntry(table[i]);
            if (t.offset() != 0) {
                b.loadCluster(i, storage.read(t.offset(), clusterSize), clusterSize);
            } else if (t.allOnes()) {
                b.setRange(i * bitsPerCluster, Math.min(b.bitCount(), (i + 1) * bitsPerCluster) - 1);
            }
        }
    }

    private static BitmapDirectoryEntry withFlags(BitmapDirectoryEntry e, int flags) {
        return new BitmapDirectoryEntry(e.entryOffset(), e.tableOffset(), e.tableSize(), flags, e.type(),
                e.granularityBits(), e.name(), e.extraDataSize());
    }

    /** The bitmaps, directory order first. */
    public List<PersistentBitmap> list() { return List.copyOf(bitmaps.values()); }

    public Optional<PersistentBitmap> find(String name) { return Optional.ofNullable(bitmaps.get(name)); }

    /** Sets the bits of every enabled bitmap over a changed guest range (bdrv_set_dirty). */
    void mark(long offset, long length) {
        if (bitmaps.isEmpty()) return;
        for (PersistentBitmap b : bitmaps.values()) if (b.enabled()) b.mark(offset, length);
    }

    /** The disk was resized: every bitmap follows (bdrv_dirty_bitmap_truncate). */
    void resize(long newSize) {
        diskSize = newSize;
        for (PersistentBitmap b : bitmaps.values()) if (!b.inconsistent()) b.resize(newSize);
    }

    /** QEMU refuses to resize while a bitmap is inconsistent (qcow2_truncate_bitmaps_check). */
    public void checkResizable() throws Qcow2Exception {
        for (PersistentBitmap b : bitmaps.values()) {
            if (b.inconsistent()) throw inconsistent(b.name());
        }
    }

    // --- operations (qemu-img bitmap; the QMP block-dirty-bitmap-* checks and messages) ---

    /** Adds an empty bitmap (block-dirty-bitmap-add with persistent=on); granularity 0 means QEMU's default. */
    public PersistentBitmap add(String name, long granularity, boolean enabled) throws Qcow2Exception {
        if (granularity == 0) granularity = defaultGranularity();
        if (granularity < 512 || Long.bitCount(granularity) != 1) {
            throw error("Granularity must be power of 2 and at least 512");
        }
        if (name.isEmpty()) throw error("Bitmap name cannot be empty");
        if (name.getBytes(StandardCharsets.UTF_8).length > BitmapDirectory.MAX_NAME_SIZE) throw error("Bitmap name too long: " + name);
        if (bitmaps.containsKey(name)) throw error("Bitmap already exists: " + name);
        String prefix = "Can't make bitmap '" + name + "' persistent in '" + storage.describe() + "': ";
        if (version < 3) throw error(prefix + "Cannot store dirty bitmaps in qcow2 v2 files");
        int bits = Long.numberOfTrailingZeros(granularity);
        if (bits > BitmapDirectory.MAX_GRANULARITY_BITS) {
            throw error(prefix + "Granularity exceeds maximum (" + (1L << BitmapDirectory.MAX_GRANULARITY_BITS) + " bytes)");
        }
        PersistentBitmap b = new PersistentBitmap(name, bits, enabled, false, null, diskSize);
        long tableSize = b.tableSize(clusterSize);
        if (tableSize > BitmapDirectory.MAX_TABLE_SIZE || tableSize * clusterSize > BitmapDirectory.MAX_PHYS_SIZE) {
            throw error(prefix + "Too much space will be occupied by the bitmap. Use larger granularity");
        }
        long dirSize = 0;
        for (PersistentBitmap other : bitmaps.values()) dirSize += entryBytes(other.name());
        dirSize += entryBytes(name);
        if (bitmaps.size() + 1 > MAX_BITMAPS) throw error(prefix + "Maximum number of persistent bitmaps is already reached");
        if (dirSize > MAX_DIRECTORY_SIZE) throw error(prefix + "Not enough space in the bitmap directory");
        bitmaps.put(name, b);
        return b;
    }

    /** QEMU's bdrv_get_default_bitmap_granularity for qcow2: the cluster size, at least 4 KiB, at most 64 KiB. */
    private long defaultGranularity() {
        return Math.min(65536, Math.max(4096, clusterSize));
    }

    /** Removes a bitmap (block-dirty-bitmap-remove); an inconsistent one may be removed too. */
    public void remove(String name) throws Qcow2Exception {
        require(name, false);
        bitmaps.remove(name);
        removed = true;
    }

    public void clear(String name) throws Qcow2Exception { require(name, true).clear(); }

    public void enable(String name) throws Qcow2Exception { require(name, true).setEnabled(true); }

    public void disable(String name) throws Qcow2Exception { require(name, true).setEnabled(false); }

    /** ORs {@code source} (a bitmap of this image) into {@code target} (block-dirty-bitmap-merge). */
    public void merge(String target, String source) throws Qcow2Exception {
        PersistentBitmap t = require(target, true);
        PersistentBitmap s = require(source, true);
        t.merge(s);
    }

    /** ORs the dirty guest ranges of a bitmap of another image into {@code target}. */
    public void mergeRanges(String target, List<long[]> ranges) throws Qcow2Exception {
        PersistentBitmap t = require(target, true);
        for (long[] r : ranges) t.mark(r[0], Math.min(r[1], diskSize) - r[0]);
    }

    private PersistentBitmap require(String name, boolean consistent) throws Qcow2Exception {
        PersistentBitmap b = bitmaps.get(name);
        if (b == null) throw error("Dirty bitmap '" + name + "' not found");
        if (consistent && b.inconsistent()) throw inconsistent(name);
        return b;
    }

    private BitmapException inconsistent(String name) {
        return error("Bitmap '" + name + "' is inconsistent and cannot be used");
    }

    private BitmapException error(String message) { return new BitmapException(storage.describe(), message); }

    private static long entryBytes(String name) {
        return (24 + name.getBytes(StandardCharsets.UTF_8).length + 7) & ~7L;
    }

    // --- close ---

    /** Stores the bitmaps (see the class comment); nothing when nothing was loaded, added or removed. */
    void store() throws IOException {
        boolean needWrite = removed;
        for (PersistentBitmap b : bitmaps.values()) needWrite |= !b.inconsistent();
        if (!needWrite) return;

        List<BitmapDirectoryEntry> entries = new ArrayList<>();
        List<BitmapDirectoryEntry> drop = new ArrayList<>();
        for (BitmapDirectoryEntry e : onDisk) {
            PersistentBitmap b = bitmaps.get(e.name());
            if (b == null) drop.add(e);
            else if (b.inconsistent()) entries.add(e);     // left as it is, IN_USE
            else { drop.add(e); entries.add(storeOne(b)); }
        }
        for (PersistentBitmap b : bitmaps.values()) {
            if (b.loadedFrom() == null) entries.add(storeOne(b));
        }
        HeaderExtension.Bitmaps old = header.extension();
        if (entries.isEmpty()) {
            header.point(0, 0, 0);
        } else {
            byte[] dir = BitmapDirectory.encode(entries);
            long dirOffset = allocator.allocate(dir.length);
            storage.barrier();
            storage.write(dirOffset, dir);
            header.point(entries.size(), dirOffset, dir.length);   // flushes before and after
        }
        // The header no longer names them: free the old directory, then the replaced tables and their data.
        if (old != null && old.directorySize() > 0) allocator.free(old.directoryOffset(), old.directorySize());
        for (BitmapDirectoryEntry e : drop) freeTable(e);
        storage.flush();
        onDisk = entries;
        removed = false;
    }

    /** store_bitmap: data clusters for every cluster of bits with a set bit, then the table. */
    private BitmapDirectoryEntry storeOne(PersistentBitmap b) throws IOException {
        long tableSize = b.tableSize(clusterSize);
        ByteBuffer table = ByteBuffer.allocate(Math.toIntExact(tableSize * 8));
        for (int i = 0; i < tableSize; i++) {
            byte[] bits = b.clusterBytes(i, clusterSize);
            if (bits == null) continue;
            long at = allocator.allocate(clusterSize);
            storage.write(at, bits);
            table.putLong(i * 8, BitmapDirectory.TableEntry.at(at).raw());
        }
        long tableOffset = allocator.allocate(table.capacity());
        storage.barrier();
        storage.write(tableOffset, table.array());
        int flags = b.enabled() ? BitmapDirectoryEntry.FLAG_AUTO : 0;
        return new BitmapDirectoryEntry(0, tableOffset, tableSize, flags, BitmapDirectoryEntry.TYPE_DIRTY_TRACKING,
                b.granularityBits(), b.name(), 0);
    }

    /** free_bitmap_clusters: the data clusters the table names, then the table. */
    private void freeTable(BitmapDirectoryEntry e) throws IOException {
        byte[] raw = storage.read(e.tableOffset(), Math.toIntExact(e.tableSize() * 8));
        ByteBuffer t = ByteBuffer.wrap(raw);
        for (int i = 0; i < e.tableSize(); i++) {
            long offset = new BitmapDirectory.TableEntry(t.getLong(i * 8)).offset();
            if (offset != 0) allocator.free(offset, clusterSize);
        }
        allocator.free(e.tableOffset(), e.tableSize() * 8);
    }
}
