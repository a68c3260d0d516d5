package dev.qcow2.testing

import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.storage.WritableStorage

import java.nio.ByteBuffer

/**
 * An in-memory storage that fails the way a disk does, for specs: EIO at the N-th read or at
 * the N-th mutating call (write, setLength, punchHole), ENOSPC when a write or setLength would
 * grow the file past {@link #spaceLimit}, a short read (the N-th read sees only its first
 * {@link #shortReadBytes} bytes, the rest as if the file ended there) and a bit flipped in what
 * the N-th read returns. Counters start at 1; 0 disables a fault. Like a real file system, a
 * failed call changes nothing; every call after an EIO fails again ({@link #sticky}) as a dead
 * disk does. {@link #flushed} is what the last completed flush made durable.
 */
class FaultyStorage implements WritableStorage {
    static class InjectedFault extends IOException {
        InjectedFault(String message) { super(message) }
    }

    final MemoryWritableStorage mem
    long failReadAt, failWriteAt, shortReadAt, flipReadAt
    int shortReadBytes, flipByte, flipBit
    long spaceLimit = Long.MAX_VALUE
    boolean sticky = true
    long reads, writes
    boolean failed
    byte[] flushed

    FaultyStorage(String name, byte[] initial) {
        mem = new MemoryWritableStorage(name, initial)
        flushed = initial.clone()
    }

    private IOException eio(String op, long n) {
        failed = true
        new InjectedFault("${mem.describe()}: Input/output error (injected at $op #$n)")
    }

    private void mutating(long newEnd) {
        if (failed && sticky) throw eio('write', writes + 1)
        writes++
        if (failWriteAt > 0 && writes >= failWriteAt) throw eio('write', writes)
        if (newEnd > spaceLimit && newEnd > mem.size()) {
            throw new InjectedFault("${mem.describe()}: No space left on device")
        }
    }

    @Override String describe() { mem.describe() }
    @Override long size() { mem.size() }

    @Override void readFully(long offset, ByteBuffer dst) {
        if (failed && sticky) throw eio('read', reads + 1)
        reads++
        if (failReadAt > 0 && reads == failReadAt) throw eio('read', reads)
        int start = dst.position()
        int length = dst.remaining()
        mem.readFully(offset, dst)
        if (shortReadAt > 0 && reads == shortReadAt) {
            for (int i = Math.min(shortReadBytes, length); i < length; i++) dst.put(start + i, (byte) 0)
        }
        if (flipReadAt > 0 && reads == flipReadAt && length > 0) {
            int at = start + Math.floorMod(flipByte, length)
            dst.put(at, (byte) (dst.get(at) ^ (1 << (flipBit & 7))))
        }
    }

    @Override void write(long offset, ByteBuffer src) { mutating(offset + src.remaining()); mem.write(offset, src) }

    @Override void setLength(long length) { mutating(length); mem.setLength(length) }

    @Override boolean punchHole(long offset, long length) {
        mutating(0)
        long end = Math.min(mem.size(), offset + length)
        if (end > offset) mem.write(offset, ByteBuffer.allocate((int) (end - offset)))
        true
    }

    @Override void flush() {
        if (failed && sticky) throw eio('flush', writes)
        flushed = mem.toByteArray()
    }

    @Override void close() { }

    byte[] bytes() { mem.toByteArray() }
}
