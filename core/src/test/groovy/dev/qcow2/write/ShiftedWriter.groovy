package dev.qcow2.write

/**
 * Lets {@link RandomOps} (which works on [0, size)) drive the second half of a disk: it sees a
 * writer and a mirror whose offsets are shifted by {@code base}. Only the operations RandomOps
 * uses are forwarded.
 */
class ShiftedWriter {
    final Qcow2Writer w
    final long base

    ShiftedWriter(Qcow2Writer w, long base) { this.w = w; this.base = base }

    def writer() {
        def self = this
        [write: { long off, byte[] d -> self.w.write(self.base + off, d) },
         writeZeroes: { long off, long len, boolean unmap -> self.w.writeZeroes(self.base + off, len, unmap) },
         discard: { long off, long len -> self.w.discard(self.base + off, len) },
         writeCompressed: { long off, byte[] d -> self.w.writeCompressed(self.base + off, d) }] as Expando
    }

    def mirror(Mirror m) {
        def self = this
        [write: { long off, byte[] d -> m.write(self.base + off, d) },
         zero: { long off, long len -> m.zero(self.base + off, len) },
         discard: { long off, long len -> m.discard(self.base + off, len) }] as Expando
    }
}
