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

    /** What the step in progress does ("apply", "resize", ...), for the failure message of a step that throws. */
    String attempting

    String step() {
        steps++
        int dice = rnd.nextInt(100)
        boolean any = !model.snapshots.isEmpty()
        if (dice < 28) return run('write') { write() }
        if (dice < 38) return run('zero') { zero() }
        if (dice < 46) return run('discard') { discard() }
        if (dice < 58) return run('compressed') { compressed() }
        if (dice < 68) return model.snapshots.size() < MAX_SNAPSHOTS ? run('create') { create() } : run('delete') { delete() }
        if (dice < 75) return any ? run('apply') { apply() } : run('write') { write() }
        if (dice < 81) return any ? run('delete') { delete() } : run('compressed') { compressed() }
        if (dice < 93) return run('resize') { resize() }
        session.close()
        'reopen'
    }

    private String run(String what, Closure<String> op) {
        attempting = what
        op()
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
        if (kind.refcountBits <= 4) {
            // A snapshot adds one reference to every cluster of the active tree: with narrow refcounts
            // that can overflow (refcount_bits=1: any allocated cluster; 4: a host cluster packing
            // several compressed clusters, shared by snapshots). Ours refuses before changing
            // anything; qemu-img fails there too (after leaking half-raised counts).
            String refused = overflowRefused { session.snapshots().create(name, Instant.ofEpochSecond(1_700_000_000L + steps)) == id }
            if (refused) return qemuRefusesToo(['snapshot', '-c', name], "create $name refused ($refused)")
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

    /**
     * Runs a snapshot operation that adds references; returns null when it succeeded, or the
     * refusal when a refcount would overflow (any other failure propagates).
     */
    private String overflowRefused(Closure<Boolean> operation) {
        try {
            assert operation()
            return null
        } catch (Qcow2Exception e) {
            assert e.message.contains('would overflow'): e.message
            return e.message.substring(e.message.indexOf('refcount of host cluster'))
        }
    }

    /** qemu-img, on a copy of the image ours refused to change, fails the same operation. */
    private String qemuRefusesToo(List<String> args, String description) {
        session.close()
        def copy = session.image.resolveSibling('refused-twin.qcow2')
        java.nio.file.Files.copy(session.image, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        try {
            def r = Qemu.img(args + [copy.toString()], false)
            assert r.exit == 1 && r.err.contains('Invalid argument'): "qemu-img ${args.join(' ')} succeeded where ours refused: $r"
        } finally {
            java.nio.file.Files.deleteIfExists(copy)
        }
        description
    }

    private String pick() { model.snapshots.keySet().toList()[rnd.nextInt(model.snapshots.size())] }

    private String apply() {
        String id = pick()
        if (kind.refcountBits <= 4) {
            // The snapshot's tree gains a reference before the active one loses its own (QEMU's
            // qcow2_snapshot_goto), so packed compressed clusters can overflow 4-bit counts.
            String refused = overflowRefused { session.snapshots().apply(id); true }
            if (refused) return qemuRefusesToo(['snapshot', '-a', id], "apply $id refused ($refused)")
            model.applied(id)
            return "apply $id"
        }
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
