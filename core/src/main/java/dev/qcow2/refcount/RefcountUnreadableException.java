package dev.qcow2.refcount;

import dev.qcow2.CorruptImageException;

/**
 * The one notion of "this refcount cannot be read": a refcount table entry names a refcount
 * block that cannot be used (QEMU's qcow2_get_refcount returns -EIO). Carries where: the
 * reftable index, the file offset of the reftable entry ({@link #fileOffset()}), its raw value
 * and {@link #reason()}. Callers that tolerate damage (check, repair) catch it; the writer lets
 * it propagate as the clear error it is.
 */
public final class RefcountUnreadableException extends CorruptImageException {
    private final ReftableDamage damage;

    RefcountUnreadableException(String resource, ReftableDamage damage) {
        super(resource, "refcount table", damage.entryFileOffset(), damage.raw(), damage.describe());
        this.damage = damage;
    }

    public ReftableDamage damage() { return damage; }

    public int reftableIndex() { return damage.index(); }

    public ReftableDamage.Reason reason() { return damage.reason(); }
}
