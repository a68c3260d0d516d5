package dev.qcow2.snapshot;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.DiscardPassthrough;
import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.Encryption;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.units.ClusterGeometry;

import java.io.Closeable;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Internal snapshots of one image opened for writing (exclusive lock until closed): create,
 * apply (goto), delete, as QEMU's block/qcow2-snapshot.c. Every step is ordered so that a
 * crash leaves at worst leaked clusters: references are added and flushed before anything
 * points at the new state, and dropped only after the pointer to the old state is gone.
 */
public final class Snapshots implements Closeable {

    private final SyncedStorage storage;
    private final String res;
    private Qcow2Header header;
    private final ClusterGeometry geo;
    private final ClusterAllocator allocator;
    private final L1Tree tree;
    private final TreeRefcounts treeRefs;
    private final CopiedFlags copied;

    private Snapshots(WritableStorage file, Path path, SecretLookup secrets) throws IOException {
        this.res = file.describe();
        this.header = Qcow2Header.read(file);
        refuseUnwritable(header);
        checkKey(file, path, secrets);
        this.storage = new SyncedStorage(file);
        this.geo = header.geometry();
        RefcountStore refcounts = new RefcountStore(storage, geo, header.refcountTableOffset(), (int) header.refcountTableClusters());
        this.allocator = new ClusterAllocator(storage, refcounts);
        this.tree = new L1Tree(storage, header);
        this.treeRefs = new TreeRefcounts(tree, allocator, res);
        this.copied = new CopiedFlags(storage, tree, refcounts);
    }

    /**
     * Opens {@code path}. Snapshots change only metadata, which is never encrypted (guest data
     * keeps its host clusters, so LUKS IVs stay right), so an encrypted image needs no key here
     * (qemu-img snapshot asks for one all the same).
     */
    public static Snapshots open(Path path) throws IOException { return open(path, SecretLookup.none()); }

    /**
     * Opens {@code path}; a secret {@code secrets} gives for an encrypted image (depth 0) must
     * unlock it — a wrong one fails before anything is written, as in qemu-img.
     */
    public static Snapshots open(Path path, SecretLookup secrets) throws IOException {
        WritableFileStorage file = WritableFileStorage.open(path);
        try {
            return new Snapshots(file, path, secrets);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Works on any writable storage; closing closes it. */
    public static Snapshots open(WritableStorage file) throws IOException { return new Snapshots(file, null, SecretLookup.none()); }

    /** {@link #open(WritableStorage)} checking a secret given for an encrypted image. */
    public static Snapshots open(WritableStorage file, SecretLookup secrets) throws IOException {
        return new Snapshots(file, null, secrets);
    }

    private void refuseUnwritable(Qcow2Header h) throws Qcow2Exception {
        if (h.isCorrupt()) throw new Qcow2Exception(res, "qcow2: Image is corrupt; cannot be opened read/write");
        dev.qcow2.format.HeaderContradiction.refuse(res, h, false);   // qcow2_do_open
        if (h.isDirty()) throw new dev.qcow2.DirtyImageException(res);
        if (h.hasExternalDataFile()) {
            // QEMU: internal snapshots cannot work with an external data file (-ENOTSUP).
            throw new UnsupportedFeatureException(res, "internal snapshots are not supported with an external data file");
        }
    }

    /** A secret given for an encrypted image must unlock it (Encryption.open fails otherwise); none is needed. */
    private void checkKey(WritableStorage file, Path path, SecretLookup secrets) throws IOException {
        Encryption.open(res, file, header, secrets, new SecretLookup.Layer(path, 0, Optional.empty())).close();
    }

    /**
     * Rewrites the snapshot table with the same entries in the layout QEMU's
     * qcow2_write_snapshots writes (v3 extra data on every entry), crash-safe as
     * {@link SnapshotTableWriter#replace}; for {@code dev.qcow2.amend}'s compat upgrade.
     */
    public static void rewriteTable(SyncedStorage storage, ClusterAllocator allocator, Qcow2Header header) throws IOException {
        SnapshotTable.Result table = SnapshotTable.read(storage.raw(), header, false);
        List<SnapshotRecord> records = table.entries().stream().map(SnapshotRecord::of).toList();
        SnapshotTableWriter.replace(storage, allocator, records, header.snapshotsOffset(), records.isEmpty() ? 0 : table.tableLength());
    }

    public List<SnapshotEntry> list() throws IOException { return SnapshotTable.read(storage.raw(), header); }

    /**
     * Creates a snapshot of the active state named {@code name} (names need not be unique; the
     * ID is the largest numeric ID + 1, as QEMU's find_new_snapshot_id). Returns its ID.
     */
    public String create(String name, Instant date) throws IOException {
        SnapshotTable.Result table = SnapshotTable.read(storage.raw(), header, false);
        List<SnapshotEntry> old = table.entries();
        if (old.size() >= Qcow2Header.MAX_SNAPSHOTS) throw new Qcow2Exception(res, "too many snapshots (at most 65536)");
        long[] l1 = activeL1();
        L1Table active = L1Tree.at(header.l1TableOffset(), l1);
        treeRefs.checkIncrement(Tree.ACTIVE, active);

        long l1Offset = 0;
        if (l1.length > 0) {
            // The snapshot's own L1 copy; COPIED bits mean nothing outside the active table.
            l1Offset = allocator.allocate(8L * l1.length);
            storage.write(l1Offset, encodeL1(l1, l1.length, true));
        }
        // Every cluster of the tree becomes shared: COPIED bits go first, then the references.
        if (copied.clearAll(Tree.ACTIVE, active)) storage.write(header.l1TableOffset(), encodeL1(l1, l1.length, false));
        storage.barrier();
        treeRefs.increment(Tree.ACTIVE, active);
        storage.barrier();

        long id = 0;
        for (SnapshotEntry e : old) id = Math.max(id, parseId(e.id()));
        String newId = Long.toUnsignedString(id + 1);
        List<SnapshotRecord> records = new ArrayList<>();
        for (SnapshotEntry e : old) records.add(SnapshotRecord.of(e));
        long micros = date.getNano() / 1000;
        records.add(new SnapshotRecord(newId, name, l1Offset, l1.length, date.getEpochSecond(), micros * 1000,
                0, 0, SnapshotTableWriter.KNOWN_EXTRA, header.size() & ~511L, 0, new byte[0]));
        // the old table is freed with QCOW2_DISCARD_SNAPSHOT: punched
        DiscardPassthrough discard = new DiscardPassthrough(storage, allocator);
        discard.freeingAlone(() -> SnapshotTableWriter.replace(storage, allocator, records, header.snapshotsOffset(),
                old.isEmpty() ? 0 : table.tableLength()));
        reloadHeader();
        discard.punch();
        return newId;
    }

    /** Removes the snapshot whose ID (else name) is {@code idOrName}, dropping its references. */
    public void delete(String idOrName) throws IOException {
        SnapshotTable.Result table = SnapshotTable.read(storage.raw(), header, false);
        int index = find(table.entries(), idOrName);
        SnapshotEntry sn = table.entries().get(index);
        SnapshotTable.validateL1(res, sn, geo.clusterSize());
        long[] snL1 = ClusterMapper.readTable(storage.raw(), sn.l1TableOffset(), (int) sn.l1Size());

        List<SnapshotRecord> records = new ArrayList<>();
        for (SnapshotEntry e : table.entries()) if (e != sn) records.add(SnapshotRecord.of(e));
        // What deletion frees (the old table, the snapshot's clusters and L1) goes with
        // QCOW2_DISCARD_SNAPSHOT: punched once the refcounts are durable.
        DiscardPassthrough discard = new DiscardPassthrough(storage, allocator);
        discard.freeingAlone(() -> SnapshotTableWriter.replace(storage, allocator, records, header.snapshotsOffset(), table.tableLength()));
        reloadHeader();

        // The snapshot is gone from the table: from here a crash only leaks clusters.
        discard.freeing(() -> treeRefs.decrement(new Tree.Snapshot(sn.id(), sn.name()), L1Tree.at(sn.l1TableOffset(), snL1)));
        if (sn.l1Size() > 0) discard.freeingAlone(() -> allocator.free(sn.l1TableOffset(), 8L * sn.l1Size()));
        storage.barrier();
        discard.punch();
        fixActiveCopied();
    }

    /** Makes the snapshot whose ID (else name) is {@code idOrName} the active state (QEMU's qcow2_snapshot_goto). */
    public void apply(String idOrName) throws IOException {
        List<SnapshotEntry> entries = list();
        SnapshotEntry sn = entries.get(find(entries, idOrName));
        SnapshotTable.validateL1(res, sn, geo.clusterSize());
        long[] snL1 = ClusterMapper.readTable(storage.raw(), sn.l1TableOffset(), (int) sn.l1Size());
        for (int i = 0; i < snL1.length; i++) snL1[i] &= ~L1Entry.COPIED;
        long[] oldL1 = activeL1();
        Tree snapshot = new Tree.Snapshot(sn.id(), sn.name());
        treeRefs.checkIncrement(snapshot, L1Tree.at(sn.l1TableOffset(), snL1));

        // Its tables become shared: clear any COPIED bits first, then raise the references.
        copied.clearAll(snapshot, L1Tree.at(sn.l1TableOffset(), snL1.clone()));
        storage.barrier();
        treeRefs.increment(snapshot, L1Tree.at(sn.l1TableOffset(), snL1));
        storage.barrier();

        long diskSize = sn.diskSize();
        int newSize = (int) Math.max(oldL1.length, snL1.length);
        boolean relocate = newSize != oldL1.length || diskSize != (header.size() & ~511L);
        long oldOffset = header.l1TableOffset();
        byte[] content = encodeL1(snL1, newSize, false);
        if (relocate) {
            long offset = allocator.allocate(Math.max(8L * newSize, 1));
            storage.write(offset, content);
            storage.barrier();
            // size, crypt_method, l1_size, l1_table_offset: one write.
            HeaderPatch.write(storage, HeaderField.SIZE.is(diskSize), HeaderField.CRYPT_METHOD.is(header.cryptMethod()),
                    HeaderField.L1_SIZE.is(newSize), HeaderField.L1_TABLE_OFFSET.is(offset));
        } else {
            storage.write(oldOffset, content);
        }
        storage.barrier();
        reloadHeader();

        // The old active state is no longer named: drop its references (QCOW2_DISCARD_SNAPSHOT:
        // punched; the old L1 table is freed with QCOW2_DISCARD_OTHER, which is not).
        DiscardPassthrough discard = new DiscardPassthrough(storage, allocator);
        discard.freeing(() -> treeRefs.decrement(Tree.ACTIVE, L1Tree.at(oldOffset, oldL1)));
        if (relocate && oldL1.length > 0) allocator.free(oldOffset, 8L * oldL1.length);
        storage.barrier();
        discard.punch();
        fixActiveCopied();
    }

    private void fixActiveCopied() throws IOException {
        long[] l1 = activeL1();
        if (copied.recompute(L1Tree.at(header.l1TableOffset(), l1))) storage.write(header.l1TableOffset(), encodeL1(l1, l1.length, false));
        storage.barrier();
    }

    private int find(List<SnapshotEntry> entries, String idOrName) throws SnapshotNotFoundException {
        for (int i = 0; i < entries.size(); i++) if (entries.get(i).id().equals(idOrName)) return i;
        for (int i = 0; i < entries.size(); i++) if (entries.get(i).name().equals(idOrName)) return i;
        throw new SnapshotNotFoundException(res, idOrName);
    }

    /** strtoul as QEMU's find_new_snapshot_id uses it: leading digits, 0 when none. */
    static long parseId(String id) {
        long v = 0;
        int i = 0;
        while (i < id.length() && Character.isWhitespace(id.charAt(i))) i++;
        for (; i < id.length() && id.charAt(i) >= '0' && id.charAt(i) <= '9'; i++) {
            v = v * 10 + (id.charAt(i) - '0');
            if (v < 0) return -1; // overflow: strtoul saturates at ULONG_MAX
        }
        return v;
    }

    private long[] activeL1() throws IOException {
        return ClusterMapper.readTable(storage.raw(), header.l1TableOffset(), (int) header.l1Size());
    }

    private static byte[] encodeL1(long[] l1, int entries, boolean stripCopied) {
        ByteBuffer b = ByteBuffer.allocate(8 * entries);
        for (int i = 0; i < Math.min(entries, l1.length); i++) b.putLong(stripCopied ? l1[i] & ~L1Entry.COPIED : l1[i]);
        return b.array();
    }

    private void reloadHeader() throws IOException { header = Qcow2Header.read(storage.raw()); }

    @Override
    public void close() throws IOException {
        try {
            storage.flush();
        } finally {
            storage.raw().close();
        }
    }
}
