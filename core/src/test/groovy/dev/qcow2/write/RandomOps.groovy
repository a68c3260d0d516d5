package dev.qcow2.write

/**
 * Random operation sequences for model-based tests: each op is applied to a writer and to the
 * {@link Mirror}. Everything is derived from one seed, so a failure replays exactly.
 */
class RandomOps {
    final Random rnd
    final long size
    final int cs

    RandomOps(long seed, long size, int cs) {
        this.rnd = new Random(seed)
        this.size = size
        this.cs = cs
    }

    /** Applies one random op to both; returns a description for failure messages. */
    String step(w, m) {
        int kind = rnd.nextInt(10)
        long off
        int len
        if (rnd.nextBoolean()) {
            off = rnd.nextInt((int) (size / cs)) * (long) cs
            len = cs * (1 + rnd.nextInt(3))
        } else {
            off = (long) (rnd.nextDouble() * size)
            len = 1 + rnd.nextInt(cs * 3)
        }
        len = (int) Math.min(len, size - off)
        if (len <= 0) return 'noop'
        switch (kind) {
            case 0..4:
                byte[] data = Mirror.pattern(rnd.nextLong(), len)
                w.write(off, data); m.write(off, data)
                return "write $off $len"
            case 5:
                boolean unmap = rnd.nextBoolean()
                w.writeZeroes(off, len, unmap); m.zero(off, len)
                return "zero $off $len unmap=$unmap"
            case 6:
                w.discard(off, len); m.discard(off, len)
                return "discard $off $len"
            default:
                long c = rnd.nextInt((int) ((size + cs - 1) / cs)) * (long) cs
                int n = (int) Math.min(cs, size - c)
                byte[] data = rnd.nextInt(4) == 0 ? new byte[n].with { rnd.nextBytes(it); it } : Mirror.pattern(rnd.nextLong(), n)
                w.writeCompressed(c, data); m.write(c, data)
                return "compressed $c $n"
        }
    }
}
