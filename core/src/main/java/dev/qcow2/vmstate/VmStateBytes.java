package dev.qcow2.vmstate;

import dev.qcow2.image.LayerReader;
import dev.qcow2.units.GuestOffset;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The stored bytes of one snapshot's VM state, read through the snapshot's L1 table by the one
 * read path ({@link LayerReader}), at stream offsets 0 to {@link #size()}. Every read is bounded
 * by the caller's buffer; nothing here holds more than that. {@link #of} puts the same stream
 * view over any other {@link Source} (a stream file, the fuzz targets' bytes), so the one
 * parser ({@link MigrationStream}) reads them all.
 */
public final class VmStateBytes {
    /** Chunk size of sequential reads (cursors, copies). */
    static final int CHUNK = 1 << 20;

    private final String resource;
    private final String snapshot;
    private final Source source;
    private final VmStateLocation location;

    /** Where stream bytes come from: {@code length} bytes at {@code streamOffset}, already checked to lie inside the stream. */
    @FunctionalInterface
    public interface Source {
        void read(long streamOffset, byte[] buf, int off, int length) throws IOException;
    }

    public VmStateBytes(String resource, String snapshot, LayerReader reader, VmStateLocation location) {
        this(resource, snapshot, (at, buf, off, length) -> reader.read(location.offset().plus(at), buf, off, length), location);
    }

    private VmStateBytes(String resource, String snapshot, Source source, VmStateLocation location) {
        this.resource = resource;
        this.snapshot = snapshot;
        this.source = source;
        this.location = location;
    }

    /** A stream of {@code size} bytes read from {@code source} (location: guest offset 0). */
    public static VmStateBytes of(String resource, String snapshot, long size, Source source) {
        return new VmStateBytes(resource, snapshot, source, new VmStateLocation(new GuestOffset(0), size));
    }

    public long size() { return location.size(); }

    public VmStateLocation location() { return location; }

    public String resource() { return resource; }

    public String snapshot() { return snapshot; }

    /** Reads {@code length} stream bytes at {@code streamOffset}; the range must lie inside the stream. */
    public void read(long streamOffset, byte[] buf, int off, int length) throws IOException {
        if (streamOffset < 0 || length < 0 || streamOffset > size() || length > size() - streamOffset) {
            throw new VmStateException(resource, snapshot, streamOffset, "read of " + length
                    + " bytes past the end of the VM state (" + size() + " bytes)");
        }
        source.read(streamOffset, buf, off, length);
    }

    /** Copies the whole stream to {@code out} (the {@code stream} export), a chunk at a time. */
    public void copyTo(OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(1, size()))];
        for (long pos = 0; pos < size(); ) {
            int n = (int) Math.min(buf.length, size() - pos);
            read(pos, buf, 0, n);
            out.write(buf, 0, n);
            pos += n;
        }
    }

    /** A sequential reader from the stream's start. */
    public StreamCursor cursor() { return new StreamCursor(this); }

    VmStateException error(long streamOffset, String message) {
        return new VmStateException(resource, snapshot, streamOffset, message);
    }
}
