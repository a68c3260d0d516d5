package dev.qcow2.write

import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.storage.WritableStorage

import java.nio.ByteBuffer

/**
 * A storage that "crashes" at its N-th mutating call (write, setLength or punchHole): that call and every
 * later one fail with an IOException, as if the process died there. {@link #afterCrash} is
 * what the disk then holds: every executed write (STOP), or only what the last completed
 * flush made durable (LOSE_UNFLUSHED: the worst a volatile disk cache can do).
 */
class CrashingStorage implements WritableStorage {
    enum Mode { STOP, LOSE_UNFLUSHED }

    static class Crash extends IOException {
        Crash() { super('simulated crash') }
    }

    final MemoryWritableStorage mem
    final long crashAt
    final Mode mode
    long calls
    int flushes
    byte[] durable
    boolean crashed

    CrashingStorage(byte[] initial, long crashAt, Mode mode) {
        this.mem = new MemoryWritableStorage('crash.qcow2', initial)
        this.crashAt = crashAt
        this.mode = mode
        this.durable = initial.clone()
    }

    private void tick() {
        if (crashed || ++calls >= crashAt) {
            crashed = true
            throw new Crash()
        }
    }

    @Override String describe() { mem.describe() }
    @Override long size() { mem.size() }
    @Override void readFully(long offset, ByteBuffer dst) { mem.readFully(offset, dst) }

    @Override void write(long offset, ByteBuffer src) { tick(); mem.write(offset, src) }

    @Override void setLength(long length) { tick(); mem.setLength(length) }

    /** A punched range reads as zeros afterwards; like a write, it is durable only after a flush. */
    @Override boolean punchHole(long offset, long length) {
        tick()
        long end = Math.min(mem.size(), offset + length)
        if (end > offset) mem.write(offset, ByteBuffer.allocate((int) (end - offset)))
        true
    }

    @Override void flush() {
        if (crashed) throw new Crash()
        durable = mem.toByteArray()
        flushes++
    }

    @Override void close() { }

    byte[] afterCrash() { mode == Mode.STOP ? mem.toByteArray() : durable }
}
