package dev.qcow2.walk;

/** What an L2 entry's host range holds; {@link #owner} makes the {@link Owner} for it. */
public enum DataKind {
    NORMAL, PREALLOCATED_ZERO, COMPRESSED;

    public Owner owner(Tree tree, long guestOffset) {
        return switch (this) {
            case NORMAL -> new Owner.Data(tree, guestOffset);
            case PREALLOCATED_ZERO -> new Owner.PreallocatedZero(tree, guestOffset);
            case COMPRESSED -> new Owner.CompressedData(tree, guestOffset);
        };
    }
}
