package dev.qcow2.dsl

import dev.qcow2.image.Qcow2Image
import dev.qcow2.refcount.RefcountReader
import dev.qcow2.refcount.RefcountUnreadableException
import groovy.transform.CompileStatic

/**
 * The refcounts recorded in the image, through the core's one refcount reader
 * ({@link RefcountReader}, QEMU's qcow2_get_refcount semantics). The DSL shows an unreadable
 * refcount ({@link RefcountUnreadableException}: unaligned refblock) as null, printed 'unreadable'.
 */
@CompileStatic
final class OnDiskRefcounts {
    private final Qcow2Image image
    private final RefcountReader reader

    OnDiskRefcounts(Qcow2Image image) {
        this.image = image
        this.reader = RefcountReader.open(image.storage(), image.header())
    }

    /** The raw reftable entries. */
    long[] reftable() { reader.reftable().copy() }

    /** Host offset of refcount block {@code i} (reserved bits masked off), 0 if none. */
    long refblockOffset(int i) { reader.reftable().entry(i).refblockOffset() }

    /** The refcount of host cluster {@code cluster}; null when it is unreadable. */
    Long get(long cluster) {
        try {
            return reader.get(cluster)
        } catch (RefcountUnreadableException ignored) {
            return null
        }
    }

    /** Host clusters the refcount table can describe up to the end of the file. */
    long clustersInFile() { image.geometry().clustersCovering(image.storage().size()) }
}
