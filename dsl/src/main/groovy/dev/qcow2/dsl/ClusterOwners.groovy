package dev.qcow2.dsl

import dev.qcow2.image.Qcow2Image
import dev.qcow2.walk.DataKind
import dev.qcow2.walk.MetadataVisitor
import dev.qcow2.walk.MetadataWalk
import dev.qcow2.walk.Owner
import dev.qcow2.walk.Tree

/**
 * Who references host clusters: the owners the {@link MetadataWalk} (the walk behind the
 * check's reference count) finds covering it, described as {@link Owner#describe()} does.
 */
final class ClusterOwners {
    private ClusterOwners() { }

    static List<String> of(Qcow2Image img, long cluster) { of(img, [cluster] as Set<Long>)[cluster] }

    /** The owners of each of {@code clusters} (an empty list for a cluster nothing references), in one walk. */
    static Map<Long, List<String>> of(Qcow2Image img, Set<Long> clusters) {
        int bits = img.geometry().clusterBits()
        Map<Long, List<String>> out = clusters.collectEntries { [(it): []] }
        if (clusters.isEmpty()) return out
        MetadataWalk.walk(img, new MetadataVisitor<RuntimeException>() {
            private void add(long offset, long length, Closure<String> owner) {
                if (length <= 0) return
                for (long c = offset >>> bits; c <= (offset + length - 1) >>> bits; c++) {
                    if (clusters.contains(c)) out[c] << owner.call()
                }
            }

            @Override
            void range(Owner owner, long offset, long length) {
                add(offset, length) { owner.describe() }
            }

            /** Data ranges make no owner unless they cover a cluster asked about. */
            @Override
            void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) {
                add(offset, length) { kind.owner(tree, guestOffset).describe() }
            }
        })
        out
    }
}
