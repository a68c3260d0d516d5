package dev.qcow2.notebook.charts;

import dev.qcow2.units.GuestOffset;
import dev.qcow2.format.L2Entry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.BlockStatus;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every guest cluster of an image classified by where its data comes from: this layer's L2
 * entry (normal, compressed, zero flag), else the first backing layer that allocates it
 * (block status of each layer, as qemu-img map walks the chain), else unallocated. With
 * extended L2 entries the cluster is classified by its L2 entry's kind, not per subcluster.
 */
public final class GuestClusters {
    private final byte[] kinds;
    private final int clusterSize;

    private GuestClusters(byte[] kinds, int clusterSize) {
        this.kinds = kinds;
        this.clusterSize = clusterSize;
    }

    /** Open the image with OpenOptions.permissive() so the backing chain is followed. */
    public static GuestClusters of(Qcow2Image img) throws IOException {
        int cs = img.geometry().clusterSize();
        long n = img.geometry().clustersCovering(img.size());
        if (n > Integer.MAX_VALUE - 8) throw new IOException(img.describe() + ": too many guest clusters to chart (" + n + ")");
        byte[] kinds = new byte[(int) n];
        for (int c = 0; c < n; c++) {
            long off = (long) c * cs;
            kinds[c] = (byte) classify(img, img.mapper().entry(new GuestOffset(off)), off, cs).ordinal();
        }
        return new GuestClusters(kinds, cs);
    }

    private static GuestKind classify(Qcow2Image img, L2Entry e, long off, int cs) throws IOException {
        switch (e) {
            case L2Entry.Normal n -> { return GuestKind.DATA; }
            case L2Entry.Compressed c -> { return GuestKind.COMPRESSED; }
            case L2Entry.Zero z -> { return GuestKind.ZERO; }
            case L2Entry.Unallocated u when u.subcluster(0).isZero() -> { return GuestKind.ZERO; }
            case L2Entry.Unallocated u -> { }   // the backing chain decides, below
            case null -> { }
        }
        Optional<BlockDevice> layer = img.backing();
        while (layer.isPresent()) {
            BlockDevice b = layer.get();
            if (off < b.size()) {
                BlockStatus s = b.blockStatus(off, Math.min(cs, b.size() - off));
                if (s.allocated()) return GuestKind.BACKING;
            }
            layer = b.backing();
        }
        return GuestKind.UNALLOCATED;
    }

    public int size() { return kinds.length; }

    public GuestKind kind(long cluster) { return GuestKind.values()[kinds[(int) cluster]]; }

    public int clusterSize() { return clusterSize; }

    public Map<GuestKind, Long> counts() {
        Map<GuestKind, Long> out = new EnumMap<>(GuestKind.class);
        for (GuestKind k : GuestKind.values()) out.put(k, 0L);
        for (byte b : kinds) out.merge(GuestKind.values()[b], 1L, Long::sum);
        return out;
    }

    byte[] ordinals() { return kinds; }
}
