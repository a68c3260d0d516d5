package dev.qcow2.dsl

import dev.qcow2.image.Qcow2Image
import dev.qcow2.walk.DataKind
import dev.qcow2.walk.MetadataVisitor
import dev.qcow2.walk.MetadataWalk
import dev.qcow2.walk.Owner
import dev.qcow2.walk.Tree

/**
 * Who references one host cluster: the owners the {@link MetadataWalk} (the walk behind the
 * check's reference count) finds covering it, described as {@link Owner#describe()} does.
 */
final class ClusterOwners {
    private ClusterOwners() { }

    static List<String> of(Qcow2Image img, long cluster) {
        int bits = img.geometry().clusterBits()
        List<String> out = []
        MetadataWalk.walk(img, new MetadataVisitor<RuntimeException>() {
            private boolean covers(long offset, long length) {
                length > 0 && offset >>> bits <= cluster && (offset + length - 1) >>> bits >= cluster
            }

            @Override
            void range(Owner owner, long offset, long length) {
                if (covers(offset, length)) out << owner.describe()
            }

            /** Data ranges make no owner unless they cover the cluster. */
            @Override
            void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) {
                if (covers(offset, length)) out << kind.owner(tree, guestOffset).describe()
            }
        })
        out
    }
}
