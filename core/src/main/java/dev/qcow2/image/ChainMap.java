package dev.qcow2.image;

import dev.qcow2.storage.HostRun;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * qemu-img map's walk over a backing chain (QEMU 7.2 qemu-img.c get_block_status and
 * entry_mergeable, block/io.c bdrv_co_block_status):
 * <ul>
 *   <li>each range is asked of the top layer; a layer that answers neither DATA nor ZERO passes
 *       the question to its backing file, one depth further down;</li>
 *   <li>an unallocated range of a layer without backing file, or at or past the end of a shorter
 *       backing file, reads as ZERO in that layer (without ALLOCATED, so present = false);</li>
 *   <li>raw layers and qcow2 layers that look metadata-preallocated ask the host file too
 *       (BDRV_BLOCK_RAW / BDRV_BLOCK_RECURSE): host holes and bytes past the host EOF read as ZERO.
 *       Holes are what the file system says ({@link Storage#hostRun}: lseek SEEK_DATA/SEEK_HOLE,
 *       as file-posix find_allocation), with a zero-block guess where it cannot say;</li>
 *   <li>neighbouring answers merge when flags, depth and file are equal and offsets contiguous.</li>
 * </ul>
 * The walk streams: an empty L1 range comes back from a layer as one extent, so a 1 TiB sparse
 * image costs a handful of lookups.
 */
public final class ChainMap {
    /** qemu-img map probes at most 1 GiB at a time. */
    static final long PROBE_BYTES = 1L << 30;

    /** Receives merged entries in guest order. */
    @FunctionalInterface
    public interface Sink {
        void accept(MapEntry entry) throws IOException;
    }

    private final boolean hostHoles;
    private final Map<Object, HostFile> hostFiles = new IdentityHashMap<>();

    /** @param hostHoles ask the host file for holes like QEMU's file driver (map); off for plain allocation queries */
    public ChainMap(boolean hostHoles) { this.hostHoles = hostHoles; }

    /** The merged map of guest bytes [start, start+length) (clipped to the disk), as qemu-img map prints it. */
    public static List<MapEntry> walk(BlockDevice top, long start, long length) throws IOException {
        List<MapEntry> out = new ArrayList<>();
        new ChainMap(true).walk(top, start, length, out::add);
        return out;
    }

    public void walk(BlockDevice top, long start, long length, Sink sink) throws IOException {
        long end = Math.min(top.size(), start + Math.max(0, length));
        MapEntry curr = null;
        long pos = start;
        while (pos < end) {
            MapEntry next = status(top, pos, Math.min(PROBE_BYTES, end - pos));
            if (curr != null && curr.mergeableWith(next)) {
                curr = curr.extendedBy(next.length());
            } else {
                if (curr != null) sink.accept(curr);
                curr = next;
            }
            pos = next.end();
        }
        if (curr != null) sink.accept(curr);
    }

    /** One unmerged answer for the range starting at {@code offset} (QEMU's get_block_status). */
    public MapEntry status(BlockDevice top, long offset, long bytes) throws IOException {
        BlockDevice layer = top;
        int depth = 0;
        while (true) {
            long n = Math.min(bytes, layer.size() - offset);
            BlockStatus s = layer.blockStatus(offset, n);
            boolean data = s.data();
            boolean zero = s.zero();
            long host = s.hostOffset();
            long len = s.length();
            if (!data && !zero) {
                BlockDevice backing = layer.backing().orElse(null);
                if (backing == null || offset >= backing.size()) {
                    zero = true;        // bdrv_co_block_status: no backing, or past its end
                } else {
                    layer = backing;
                    bytes = len;
                    depth++;
                    continue;
                }
            }
            HostFile file = host >= 0 ? hostFile(layer) : null;
            if (file != null && data && !s.compressed() && (file.raw || file.recurse)) {
                HostAnswer h = file.probe(host, len);
                len = h.length;
                if (h.zero) {
                    zero = true;
                    if (file.raw) data = false;     // raw passes the file's answer through
                }
            }
            return new MapEntry(offset, len, depth, s.allocated() || (file != null && file.raw), zero, data,
                    s.compressed(), host, host >= 0 && file != null ? file.storage.describe() : hostName(layer, host));
        }
    }

    private static String hostName(BlockDevice layer, long host) {
        if (host < 0) return null;
        Storage s = hostStorage(layer);
        return s == null ? layer.describe() : s.describe();
    }

    private static Storage hostStorage(BlockDevice layer) {
        if (layer instanceof Qcow2Image q) return q.dataStorage();
        if (layer instanceof SnapshotView v) return v.image().dataStorage();
        if (layer instanceof RawImage r) return r.storage();
        return null;
    }

    private HostFile hostFile(BlockDevice layer) throws IOException {
        Object key = layer instanceof SnapshotView v ? v.image() : layer;
        HostFile f = hostFiles.get(key);
        if (f == null) {
            f = HostFile.of(layer, hostHoles);
            hostFiles.put(key, f);
        }
        return f;
    }

    private record HostAnswer(long length, boolean zero) { }

    /** What QEMU's file driver would say about host bytes of one layer's data file. */
    private static final class HostFile {
        final Storage storage;
        final boolean raw;
        final boolean recurse;
        final long size;

        private HostFile(Storage storage, boolean raw, boolean recurse, long size) {
            this.storage = storage;
            this.raw = raw;
            this.recurse = recurse;
            this.size = size;
        }

        static HostFile of(BlockDevice layer, boolean hostHoles) throws IOException {
            Storage s = hostStorage(layer);
            if (s == null || !hostHoles) return new HostFile(s, false, false, -1);
            long size;
            try {
                size = s.size();
            } catch (IOException e) {
                return new HostFile(s, false, false, -1);
            }
            boolean raw = layer instanceof RawImage;
            boolean recurse = false;
            Qcow2Image q = layer instanceof Qcow2Image qi ? qi : layer instanceof SnapshotView v ? v.image() : null;
            if (q != null) recurse = metadataPreallocated(q);
            return new HostFile(s, raw, recurse, size);
        }

        /**
         * qcow2_detect_metadata_preallocation: more clusters have a refcount than the host file
         * allocates (threshold max(real*10/9, real+2) clusters), so data clusters may be holes.
         */
        static boolean metadataPreallocated(Qcow2Image q) throws IOException {
            dev.qcow2.format.Qcow2Header h = q.header();
            long fileAllocated = q.storage().allocatedBytes();
            if (fileAllocated < 0) return false;
            long cs = h.clusterSize();
            long realClusters = fileAllocated / cs;
            long threshold = Math.max(realClusters * 10 / 9, realClusters + 2);
            long endCluster = (q.storage().size() + cs - 1) / cs;
            // an unreadable refcount (unaligned refcount block) counts as 0 here: this is only a heuristic
            dev.qcow2.refcount.RefcountReader refcounts = dev.qcow2.refcount.RefcountReader.open(q.storage(), h);
            long count = 0;
            for (long c = 0; c < endCluster && count <= threshold; c++) {
                if (refcounts.getOr(c, 0) != 0) count++;
            }
            return count > threshold;
        }

        /** The run of host bytes from {@code host} (at most {@code len}) that is all hole or all data. */
        HostAnswer probe(long host, long len) throws IOException {
            if (host >= size) return new HostAnswer(len, true);
            if (host + len > size) len = size - host;     // data up to EOF; the rest is asked again
            HostRun run = storage.hostRun(host, len);
            return new HostAnswer(run.length(), run.hole());
        }
    }
}
