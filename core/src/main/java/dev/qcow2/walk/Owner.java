package dev.qcow2.walk;

/**
 * What a host range of the image file holds, as {@link MetadataWalk} finds it: every kind of
 * structure the format references a cluster from (qcow2.rst; QEMU's qcow2_check_refcounts
 * counts the same). Owners of data carry the guest offset they map.
 */
public sealed interface Owner {

    /** A phrase naming the owner, e.g. "L2 table of snapshot 'a' for guest 0x40000000". */
    String describe();

    /** The header cluster (header and its extensions). */
    record Header() implements Owner {
        public String describe() { return "header"; }
    }

    record L1Table(Tree tree) implements Owner {
        public String describe() { return "L1 table of " + tree.describe(); }
    }

    /** The L2 table mapping guest [guestOffset, guestOffset + cluster_size * l2_entries). */
    record L2Table(Tree tree, long guestOffset) implements Owner {
        public String describe() { return "L2 table of " + tree.describe() + " for guest " + hex(guestOffset); }
    }

    /** A normal data cluster. */
    record Data(Tree tree, long guestOffset) implements Owner {
        public String describe() { return "data of " + tree.describe() + " for guest " + hex(guestOffset); }
    }

    /** A zero cluster that keeps its host cluster (preallocated). */
    record PreallocatedZero(Tree tree, long guestOffset) implements Owner {
        public String describe() {
            return "preallocated zero cluster of " + tree.describe() + " for guest " + hex(guestOffset);
        }
    }

    /** The compressed bytes of one guest cluster: may start mid-cluster and run into the next. */
    record CompressedData(Tree tree, long guestOffset) implements Owner {
        public String describe() { return "compressed data of " + tree.describe() + " for guest " + hex(guestOffset); }
    }

    record SnapshotTable() implements Owner {
        public String describe() { return "snapshot table"; }
    }

    record RefcountTable() implements Owner {
        public String describe() { return "refcount table"; }
    }

    /** The refcount block named by reftable entry {@code index}. */
    record RefcountBlock(int index) implements Owner {
        public String describe() { return "refcount block " + index; }
    }

    /** The LUKS header area named by the full disk encryption header extension. */
    record CryptoHeader() implements Owner {
        public String describe() { return "LUKS header"; }
    }

    record BitmapDirectory() implements Owner {
        public String describe() { return "bitmap directory"; }
    }

    record BitmapTable(String name) implements Owner {
        public String describe() { return "bitmap table of '" + name + "'"; }
    }

    /** Cluster {@code index} of a bitmap's data (entry {@code index} of its bitmap table). */
    record BitmapData(String name, int index) implements Owner {
        public String describe() { return "bitmap data " + index + " of '" + name + "'"; }
    }

    private static String hex(long v) { return "0x" + Long.toHexString(v); }
}
