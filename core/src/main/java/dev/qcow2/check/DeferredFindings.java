package dev.qcow2.check;

import java.util.Arrays;

/**
 * OFLAG_COPIED mismatches found while walking the active L1, kept as packed primitives
 * (kind, index, raw entry, refcount) until qemu-img's reporting order reaches them.
 */
final class DeferredFindings {
    static final long L1 = 1;
    static final long L2 = 2;
    private long[] data = new long[64];
    private int size;

    void add(long kind, long index, long raw, long refcount) {
        if (size + 4 > data.length) data = Arrays.copyOf(data, data.length * 2);
        data[size++] = kind;
        data[size++] = index;
        data[size++] = raw;
        data[size++] = refcount;
    }

    void reportTo(CheckState state) {
        for (int i = 0; i < size; i += 4) {
            long kind = data[i], index = data[i + 1], raw = data[i + 2], rc = data[i + 3];
            if (kind == L1) {
                state.report(Finding.Type.L1_OFLAG_COPIED, "active L1 table", raw & dev.qcow2.format.L1Entry.OFFSET_MASK, -1,
                        String.format("ERROR OFLAG_COPIED L2 cluster: l1_index=%d l1_entry=%x refcount=%s",
                                index, raw, Long.toUnsignedString(rc)));
            } else {
                state.report(Finding.Type.L2_OFLAG_COPIED, "L2 table", raw & dev.qcow2.format.L2Entry.OFFSET_MASK, -1,
                        String.format("ERROR OFLAG_COPIED data cluster: l2_entry=%x refcount=%s",
                                raw, Long.toUnsignedString(rc)));
            }
        }
        data = new long[0];
        size = 0;
    }
}
