package dev.qcow2.model

import dev.qcow2.units.GuestOffset
import dev.qcow2.Qcow2Exception
import dev.qcow2.UnsupportedFeatureException
import dev.qcow2.format.L2Entry
import dev.qcow2.image.Qcow2Image
import dev.qcow2.resize.Resizer
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Mirror

import java.time.Instant

/**
 * Random operations, each applied to the image through our API (or, for some snapshot
 * operations, through qemu-img) and to the {@link GuestModel}. Everything derives from one
 * seed, so a sequence replays exactly; {@link #step} returns a description for the log.
 */
class ModelOps {
    static final int MAX_SNAPSHOTS = 4

    final Random rnd
    final ImageKind kind
    final GuestModel model
    final ImageSession session
    int steps

    ModelOps(long seed, ImageKind kind, GuestModel model, ImageSession session) {
        this.rnd = new Random(seed * 31 + 7)
        this.kind = kind
        this.model = model
        this.session = session
    }

    String step() {
        steps++
        int dice = rnd.nextInt(100)
        boolean any = !model.snapshots.isEmpty()
        if (dice < 28) return write()
        if (dice < 38) return zero()
        if (dice < 46) return discard()
        if (dice < 58) return compressed()
        if (dice < 68) return model.snapshots.size() < MAX_SNAPSHOTS ? create() : delete()
        if (dice < 75) return any ? apply() : write()
        if (dice < 81) return any ? delete() : compressed()
        if (dice < 93) return resize()
        session.close()
        'reopen'
    }

    private long[] range() {
        long size = model.size()
        int cs = kind.clusterSize
        long off
        long len
        if (rnd.nextBoolean()) {
            off = rnd.nextInt((int) ((size + cs - 1).intdiv(cs))) * (long) cs
            len = cs * (1L + rnd.nextInt(4))
        } else {
            off = (long) (rnd.nextDouble() * size)
            len = 1 + rnd.nextInt(cs * 3)
        }
        [off, Math.max(0, Math.min(len, size - off))] as long[]
    }

    private byte[] data(int len) {
        switch (rnd.nextInt(6)) {
            case 0: return new byte[len].with { rnd.nextBytes(it); it } // incompressible
            case 1: return new byte[len]
            default: return Mirror.pattern(rnd.nextLong(), len)
        }
    }

    private String write() {
        def (off, len) = range()
        byte[] bytes = data((int) len)
        session.writer().write(off, bytes)
        model.write(off, bytes)
        "write $off+$len"
    }

    private String zero() {
        def (off, len) = range()
        boolean unmap = rnd.nextBoolean()
        session.writer().writeZeroes(off, len, unmap)
        model.zero(off, len)
        "zero $off+$len${unmap ? ' unmap' : ''}"
    }

    private String discard() {
        def (off, len) = range()
        session.writer().discard(off, len)
        model.discard(off, len)
        "discard $off+$len"
    }

    /** One whole cluster, or the partial last cluster of the disk. */
    private String compressed() {
        int cs = kind.clusterSize
        long c = rnd.nextInt((int) ((model.size() + cs - 1).intdiv(cs))) * (long) cs
        int n = (int) Math.min(cs, model.size() - c)
        byte[] bytes = data(n)
        session.writer().writeCompressed(c, bytes)
        model.write(c, bytes)
        "compressed $c+$n"
    }

    /** The ID QEMU's find_new_snapshot_id gives: the largest numeric ID + 1. */
    private String nextId() { ((model.snapshots.keySet().collect { it as long }.max() ?: 0L) + 1).toString() }

    private boolean byQemu() { rnd.nextInt(5) == 0 }

    private String create() {
        String name = "s$steps"
        String id = nextId()
        if (kind.refcountBits == 1) {
            // A snapshot shares every cluster (refcount 2), which 1-bit refcounts cannot count.
            try {
                assert session.snapshots().create(name, Instant.ofEpochSecond(1_700_000_000L + steps)) == id
            } catch (Qcow2Exception e) {
                assert e.message.contains('refcount'): e.message
                return "create $name refused (refcount_bits=1)"
            }
        } else if (byQemu()) {
            session.close()
            Qemu.img('snapshot', '-c', name, session.image.toString())
            model.created(id, name)
            return "qemu create $name -> $id"
        } else {
            assert session.snapshots().create(name, Instant.ofEpochSecond(1_700_000_000L + steps)) == id
        }
        model.created(id, name)
        "create $name -> $id"
    }

    private String pick() { model.snapshots.keySet().toList()[rnd.nextInt(model.snapshots.size())] }

    private String apply() {
        String id = pick()
        if (byQemu()) {
            session.close()
            if (growRefused(model.size(), model.snapshots[id].length)) {
                // qcow2_snapshot_goto first truncates to the snapshot's size, which fails here (ours does not truncate).
                def r = Qemu.img(['snapshot', '-a', id, session.image.toString()], false)
                assert r.exit == 1 && r.err.contains('Failed to zero out new clusters: Operation not supported'): r
                return "qemu apply $id refused (compressed head)"
            }
            Qemu.img('snapshot', '-a', id, session.image.toString())
            model.applied(id)
            return "qemu apply $id"
        }
        session.snapshots().apply(id)
        model.applied(id)
        "apply $id"
    }

    /** qemu-img 7.2 deletes by name (bdrv_snapshot_find); ours by ID. */
    private String delete() {
        String id = pick()
        if (byQemu()) {
            session.close()
            Qemu.img('snapshot', '-d', model.names[id], session.image.toString())
            model.deleted(id)
            return "qemu delete $id"
        }
        session.snapshots().delete(id)
        model.deleted(id)
        "delete $id"
    }

    /**
     * Whether QEMU's truncate from {@code old} to {@code size} fails with -ENOTSUP: with a backing
     * file longer than {@code old} it zeroes the new area, and zero_l2_subclusters refuses the
     * partial first cluster on extended L2 when that cluster is compressed. The image is looked
     * at read-only (the session must be closed).
     */
    private boolean growRefused(long old, long size) {
        if (model.backing == null || model.backing.length <= old || size <= old || !kind.options.contains('extended_l2=on')) return false
        long zeroStart = (old + kind.subclusterSize - 1).intdiv(kind.subclusterSize) * kind.subclusterSize
        if (size <= zeroStart || zeroStart % kind.clusterSize == 0) return false
        Qcow2Image.open(session.image).withCloseable { it.mapper().entry(GuestOffset.of(zeroStart)) instanceof L2Entry.Compressed }
    }

    /** Grow or shrink; the refusals QEMU makes (v2 with snapshots, -ENOTSUP zeroing) are expected, not skipped. */
    private String resize() {
        long old = model.size()
        long size = kind.randomSize(rnd)
        if (size == old) return 'resize (same size)'
        def w = session.writer()
        long zeroStart = (old + kind.subclusterSize - 1).intdiv(kind.subclusterSize) * kind.subclusterSize
        boolean refused = kind.version < 3 && !model.snapshots.isEmpty()
        if (!refused && model.backing != null && model.backing.length > old && size > zeroStart) {
            session.close()
            refused = kind.version < 3 || growRefused(old, size)
            w = session.writer()
        }
        if (refused) {
            try {
                Resizer.resize(w, size)
                assert false: "resize $old -> $size should be refused, as qemu-img does"
            } catch (UnsupportedFeatureException expected) {
                assert expected.message.contains(kind.version < 3 && !model.snapshots.isEmpty()
                        ? "Can't resize a v2 image which has snapshots" : 'Failed to zero out new clusters'): expected.message
                return "resize $old -> $size refused: ${expected.message}"
            }
        }
        Resizer.resize(w, size)
        int tail = size > old ? model.keptTailLength(old, size) : 0
        model.resized(size, tail > 0 ? w.read(old, tail) : null)
        "resize $old -> $size"
    }
}
