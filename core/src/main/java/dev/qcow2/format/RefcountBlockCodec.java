package dev.qcow2.format;

/**
 * Reads entries of a refcount block of width 1..64 bits (qcow2.rst "Host cluster management").
 * Sub-byte widths pack entry i into byte {@code i / (8/bits)} at bit {@code bits * (i % (8/bits))}
 * (the least significant bits hold the first entry); 16/32/64-bit entries are big-endian.
 */
public final class RefcountBlockCodec {
    private RefcountBlockCodec() { }

    public static long get(byte[] block, int refcountOrder, long index) {
        int bits = 1 << refcountOrder;
        switch (bits) {
            case 1, 2, 4: {
                int perByte = 8 / bits;
                int b = block[(int) (index / perByte)] & 0xff;
                int shift = bits * (int) (index % perByte);
                return (b >>> shift) & ((1 << bits) - 1);
            }
            case 8:
                return block[(int) index] & 0xffL;
            case 16: {
                int o = (int) index * 2;
                return ((block[o] & 0xffL) << 8) | (block[o + 1] & 0xffL);
            }
            case 32: {
                int o = (int) index * 4;
                return ((block[o] & 0xffL) << 24) | ((block[o + 1] & 0xffL) << 16)
                        | ((block[o + 2] & 0xffL) << 8) | (block[o + 3] & 0xffL);
            }
            default: {
                int o = (int) index * 8;
                long v = 0;
                for (int i = 0; i < 8; i++) v = (v << 8) | (block[o + i] & 0xffL);
                return v;
            }
        }
    }

    /** Stores {@code value} (at most {@link #max(int)}) as entry {@code index}; the inverse of {@link #get}. */
    public static void set(byte[] block, int refcountOrder, long index, long value) {
        int bits = 1 << refcountOrder;
        if (bits < 64 && (value < 0 || value > max(refcountOrder))) {
            throw new IllegalArgumentException("refcount " + value + " does not fit in " + bits + " bits");
        }
        switch (bits) {
            case 1, 2, 4: {
                int perByte = 8 / bits;
                int at = (int) (index / perByte);
                int shift = bits * (int) (index % perByte);
                int mask = ((1 << bits) - 1) << shift;
                block[at] = (byte) ((block[at] & ~mask) | (((int) value << shift) & mask));
                return;
            }
            case 8:
                block[(int) index] = (byte) value;
                return;
            default: {
                int width = bits / 8;
                int o = (int) index * width;
                for (int i = width - 1; i >= 0; i--) {
                    block[o + i] = (byte) value;
                    value >>>= 8;
                }
            }
        }
    }

    /** Largest refcount representable: 2^bits - 1 (for 64 bits, treated as unsigned). */
    public static long max(int refcountOrder) {
        int bits = 1 << refcountOrder;
        return bits == 64 ? -1L : (1L << bits) - 1;
    }
}
