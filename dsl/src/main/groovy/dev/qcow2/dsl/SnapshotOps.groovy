package dev.qcow2.dsl

import dev.qcow2.format.SnapshotEntry
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.view.SnapshotViews

import java.nio.file.Path
import java.time.Instant

/**
 * {@code snapshot.list}, {@code snapshot.diff 'a', 'b'} (or {@code snapshot.diff 'a'} against
 * the active state), {@code snapshot.create 'x'}, {@code snapshot.apply 'x'},
 * {@code snapshot.delete 'x'}; {@code snapshot('x')} is the read-only view of one snapshot.
 */
class SnapshotOps {
    private final Session session

    SnapshotOps(Session session) { this.session = session }

    /** {@code snapshot('a')} also works when written as a call on this object. */
    View call(String idOrName) { session.snapshot(idOrName) }

    /** The snapshot table: {@code qcow2 dump snapshots}' rows ({@code qemu-img snapshot -l}'s columns first). */
    Table getList() { Guard.run { session.requirePath(); Table.from(SnapshotViews.snapshots(session.image())) } }

    /** The names of the snapshots, in table order (for completion and messages). */
    List<String> getNames() { Guard.run { session.image().snapshots()*.name() } }

    /** What changed from snapshot {@code before} to the active state. */
    Table diff(String before) { SnapshotDiff.diff(session.snapshot(before), session.active) }

    /** What changed from snapshot {@code before} to snapshot {@code after}. */
    Table diff(String before, String after) { SnapshotDiff.diff(session.snapshot(before), session.snapshot(after)) }

    Table diff(View before, View after) { SnapshotDiff.diff(before, after) }

    /** Takes a snapshot of the active state now; returns it as a record (id, name). */
    Record create(String name) {
        if (!name) throw new DslException("snapshot.create: the snapshot needs a name")
        String id = session.exclusive { Path p -> Snapshots.open(p).withCloseable { it.create(name, Instant.now()) } }
        new Record('snapshot created', [id: id, name: name])
    }

    /** Makes snapshot {@code idOrName} the active state (the current active state is lost unless snapshotted). */
    Record apply(String idOrName) {
        session.requireWritable()
        def s = session.snapshotEntry(idOrName)
        session.exclusive { Path p -> Snapshots.open(p).withCloseable { it.apply(s.id()) } }
        new Record('snapshot applied', [id: s.id(), name: s.name()])
    }

    Record delete(String idOrName) {
        session.requireWritable()
        def s = session.snapshotEntry(idOrName)
        session.exclusive { Path p -> Snapshots.open(p).withCloseable { it.delete(s.id()) } }
        new Record('snapshot deleted', [id: s.id(), name: s.name()])
    }

    String toString() { list.toString() }
}
