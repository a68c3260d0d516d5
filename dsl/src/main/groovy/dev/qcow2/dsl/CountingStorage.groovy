package dev.qcow2.dsl

import dev.qcow2.storage.Storage
import groovy.transform.CompileStatic

import java.nio.ByteBuffer

/**
 * A storage that advances a {@link Meter} by the bytes read through it: progress for core code
 * that has no callback of its own (the checker), measured without changing it. Reads before
 * a meter is set are not counted. Everything else is the wrapped storage's.
 */
@CompileStatic
final class CountingStorage implements Storage {
    private final Storage inner
    /** Counts reads from now on (null: none). */
    Meter meter

    CountingStorage(Storage inner) {
        this.inner = inner
    }

    @Override String describe() { inner.describe() }

    @Override long size() throws IOException { inner.size() }

    @Override
    void readFully(long offset, ByteBuffer dst) throws IOException {
        if (meter != null) Meter.cancelPoint()
        int n = dst.remaining()
        inner.readFully(offset, dst)
        meter?.advance(n)
    }

    @Override boolean writable() { inner.writable() }

    @Override long allocatedBytes() throws IOException { inner.allocatedBytes() }

    @Override void close() throws IOException { inner.close() }
}
