package dev.qcow2.model

import dev.qcow2.storage.WritableStorage

import java.nio.ByteBuffer

/**
 * A file opened for writing whose flush does not fsync: these tests check what the image holds,
 * not what survives a crash (CrashSafetySpec and friends do), and qemu-img reads the same page
 * cache. Saves about half the run time on a busy disk.
 */
class NoSyncStorage implements WritableStorage {
    private final WritableStorage file

    NoSyncStorage(WritableStorage file) { this.file = file }

    @Override String describe() { file.describe() }
    @Override long size() { file.size() }
    @Override void readFully(long offset, ByteBuffer dst) { file.readFully(offset, dst) }
    @Override long allocatedBytes() { file.allocatedBytes() }
    @Override void write(long offset, ByteBuffer src) { file.write(offset, src) }
    @Override void flush() { }
    @Override void setLength(long length) { file.setLength(length) }
    @Override void close() { file.close() }
}
