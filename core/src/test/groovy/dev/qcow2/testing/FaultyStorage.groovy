package dev.qcow2.testing

import dev.qcow2.Qcow2Exception
import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.storage.WritableStorage

import java.nio.ByteBuffer

/**
 * An in-memory storage that fails the way a disk does, for specs: EIO at the N-th read, at
 * the N-th mutating call (write, setLength, punchHole) or at the N-th flush; ENOSPC when a write
 * or setLength would grow the file past {@link #spaceLimit}, or from the N-th mutating call on
 * ({@link #fullAt}: the disk is full from then, every write and growth fails — a write into a
 * hole of a sparse file needs a block too — while shrinking and punching holes still work);
 * a short read (the N-th read sees only its first {@link #shortReadBytes} bytes, the rest as if
 * the file ended there) and a bit flipped in what the N-th read returns. Counters start at 1;
 * 0 disables a fault. Like a real file system, a failed call changes nothing; every call after
 * an EIO fails again ({@link #sticky}) as a dead disk does. {@link #flushed} is what the last
 * completed flush made durable. The faults are {@link Qcow2Exception}s worded as
 * {@code WritableFileStorage} words a failed system call ({@code f.qcow2: write failed: …}).
 */
class FaultyStorage implements WritableStorage {
    static class InjectedFault extends Qcow2Exception {
        InjectedFault(String resource, String message) { super(resource, message) }
    }

    /** Where the bytes live: memory, or a real file (for paths that re-read the file by name). */
    final WritableStorage mem
    long failReadAt, failWriteAt, failFlushAt, fullAt, shortReadAt, flipReadAt
    int shortReadBytes, flipByte, flipBit
    long spaceLimit = Long.MAX_VALUE
    boolean sticky = true
    long reads, writes, flushes
    boolean failed, full, enospcThrown
    byte[] flushed

    FaultyStorage(String name, byte[] initial) {
        mem = new MemoryWritableStorage(name, initial)
        flushed = initial.clone()
    }

    /** Faults in front of {@code delegate} (e.g. a WritableFileStorage: the file itself is changed). */
    FaultyStorage(WritableStorage delegate) {
        mem = delegate
        flushed = bytes()
    }

    private IOException eio(String op, long n) {
        failed = true
        new InjectedFault(mem.describe(), "$op failed: Input/output error (injected at $op #$n)")
    }

    private IOException enospc() {
        enospcThrown = true
        new InjectedFault(mem.describe(), 'write failed: No space left on device')
    }

    /** @param newEnd the end of the file after the call; -1 for a call that only frees space */
    private void mutating(long newEnd) {
        if (failed && sticky) throw eio('write', writes + 1)
        writes++
        if (failWriteAt > 0 && writes >= failWriteAt) throw eio('write', writes)
        if (fullAt > 0 && writes >= fullAt) full = true
        if (full && newEnd >= 0) throw enospc()
        if (newEnd > spaceLimit && newEnd > mem.size()) throw enospc()
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

    @Override void setLength(long length) { mutating(length <= mem.size() ? -1 : length); mem.setLength(length) }

    @Override boolean punchHole(long offset, long length) {
        mutating(-1)
        long end = Math.min(mem.size(), offset + length)
        if (end > offset) mem.write(offset, ByteBuffer.allocate((int) (end - offset)))
        true
    }

    @Override void flush() {
        if (failed && sticky) throw eio('flush', flushes + 1)
        flushes++
        if (failFlushAt > 0 && flushes == failFlushAt) throw eio('flush', flushes)
        mem.flush()
        flushed = bytes()
    }

    @Override void close() { mem.close() }

    byte[] bytes() { mem.read(0, (int) mem.size()) }
}
