package dev.qcow2.badinput

import dev.qcow2.testing.Damage

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/** The seeded damage one random-corruption case does to a copy of an image. */
class Mutations {
    /** Values that break size and offset arithmetic: overflows, signs, alignment, EOF. */
    static List<Long> hostileWords(long fileSize) {
        [0L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, 0x00ff_ffff_ffff_fe00L, 0x8000_0000_0000_0200L,
         0x4000_0000_0000_0000L | fileSize, fileSize, fileSize + 512, fileSize & ~0xffffL, 0x7fff_ffffL,
         0xffff_ffffL, 0x1_0000_0000L, 0x8000_0000_0001_0000L, 0x0000_0001_0000_0000L << 24, 0x200L, 0xffff_ffff_ffff_0000L, -512L]
    }

    /** Applies one random damage and says what it did. */
    static String apply(Path f, Random rnd, List<long[]> metadata) {
        long size = Files.size(f)
        int kind = rnd.nextInt(100)
        if (kind < 30) return flips(f, rnd, 0, Math.min(512L, size), 'header')
        if (kind < 40) return flips(f, rnd, 0, Math.min(1L << (int) getInt(f, CLUSTER_BITS), size), 'cluster 0')
        long[] range = metadata[rnd.nextInt(metadata.size())]
        long start = Math.min(range[0], size - 1), length = Math.max(1L, Math.min(range[1], size - start))
        if (kind < 70) return flips(f, rnd, start, length, "metadata @0x${Long.toHexString(range[0])}")
        if (kind < 88) {
            long at = start + (rnd.nextLong() & Long.MAX_VALUE) % length & ~7L
            List<Long> words = hostileWords(size)
            long word = rnd.nextBoolean() ? words[rnd.nextInt(words.size())] : rnd.nextLong()
            putLong(f, at, word)
            return "word @0x${Long.toHexString(at)} := 0x${Long.toHexString(word)}"
        }
        long cut = rnd.nextBoolean() ? (rnd.nextLong() & Long.MAX_VALUE) % size
                                     : start + (rnd.nextLong() & Long.MAX_VALUE) % length
        truncate(f, cut)
        return "truncated at 0x${Long.toHexString(cut)}"
    }

    private static String flips(Path f, Random rnd, long start, long length, String where) {
        int n = 1 + rnd.nextInt(4)
        def done = []
        n.times {
            long at = start + (rnd.nextLong() & Long.MAX_VALUE) % length
            int value = rnd.nextInt(256)
            putByte(f, at, value)
            done << "0x${Long.toHexString(at)}=0x${Integer.toHexString(value)}"
        }
        "bytes in $where: ${done.join(', ')}"
    }
}
