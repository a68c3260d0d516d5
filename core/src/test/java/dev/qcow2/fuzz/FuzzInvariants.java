package dev.qcow2.fuzz;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The invariants every fuzz target asserts: only {@link Qcow2Exception}s escape (an
 * IOException that is not one, or any RuntimeException/Error, is a finding), and a read-only
 * open never writes (the storage it is given has no write path, and {@link ReadOnlyBytes}
 * fails if anything tries to reach past it).
 */
final class FuzzInvariants {
    private FuzzInvariants() { }

    /** Per-input work budget: a target stops reading the guest after this many bytes. */
    static final long GUEST_BYTES_PER_INPUT = 4L << 20;

    interface Body { void run() throws Exception; }

    /** Runs {@code body}; a Qcow2Exception is the expected outcome for bad input, anything else is rethrown as a finding. */
    static void onlyQcow2Exceptions(Body body) {
        try {
            body.run();
        } catch (Qcow2Exception expected) {
            // a clear one-line refusal: what bad input must produce
            if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                throw new AssertionError("Qcow2Exception without a message", expected);
            }
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            throw new AssertionError("escaped: " + e, e);
        }
    }

    /**
     * In-memory read-only storage over the fuzz input that counts reads and refuses to be
     * treated as writable. Reads past the end are zeros (Storage's contract).
     */
    static final class ReadOnlyBytes implements Storage {
        private final byte[] bytes;
        final AtomicLong reads = new AtomicLong();

        ReadOnlyBytes(byte[] bytes) { this.bytes = bytes; }

        @Override public String describe() { return "fuzz.qcow2"; }
        @Override public long size() { return bytes.length; }
        @Override public boolean writable() { return false; }

        @Override public void readFully(long offset, ByteBuffer dst) throws IOException {
            Storage.checkRange(describe(), offset, dst.remaining());
            reads.incrementAndGet();
            while (dst.hasRemaining()) {
                if (offset >= bytes.length) { dst.put((byte) 0); continue; }
                int n = (int) Math.min(dst.remaining(), bytes.length - offset);
                dst.put(bytes, (int) offset, n);
                offset += n;
            }
        }

        @Override public void close() { }
    }
}
