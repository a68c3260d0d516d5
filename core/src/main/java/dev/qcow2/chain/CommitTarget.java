package dev.qcow2.chain;

import dev.qcow2.resize.Resizer;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** The base image a commit writes into: qcow2 (through {@link Qcow2Writer}) or a raw file. */
interface CommitTarget extends Closeable {

    long size() throws IOException;

    /** Grows the image to {@code size} (qemu's blk_truncate of the base in mirror_run, PREALLOC_MODE_OFF). */
    void grow(long size) throws IOException;

    void write(long offset, byte[] buf, int off, int len) throws IOException;

    /** Makes the range read as zeros, releasing space where possible (BDRV_REQ_MAY_UNMAP). */
    void zero(long offset, long length) throws IOException;

    void flush() throws IOException;

    static CommitTarget open(Path path, String format, WriteOptions options) throws IOException {
        return "raw".equals(format) ? new Raw(options.opener().open(path)) : new Qcow2(Qcow2Writer.open(path, options));
    }

    record Qcow2(Qcow2Writer writer) implements CommitTarget {
        @Override public long size() { return writer.size(); }
        @Override public void grow(long size) throws IOException { Resizer.resize(writer, size); }
        @Override public void write(long offset, byte[] buf, int off, int len) throws IOException { writer.write(offset, buf, off, len); }
        @Override public void zero(long offset, long length) throws IOException { writer.writeZeroes(offset, length, true); }
        @Override public void flush() throws IOException { writer.flush(); }
        @Override public void close() throws IOException { writer.close(); }
    }

    record Raw(WritableStorage file) implements CommitTarget {
        private static final int ZERO_CHUNK = 1 << 20;

        @Override public long size() throws IOException { return file.size(); }
        @Override public void grow(long size) throws IOException { file.setLength(size); }
        @Override public void write(long offset, byte[] buf, int off, int len) throws IOException {
            file.write(offset, ByteBuffer.wrap(buf, off, len));
        }
        @Override public void zero(long offset, long length) throws IOException {
            byte[] zeros = new byte[(int) Math.min(length, ZERO_CHUNK)];
            for (long done = 0; done < length; done += zeros.length) {
                file.write(offset + done, ByteBuffer.wrap(zeros, 0, (int) Math.min(zeros.length, length - done)));
            }
        }
        @Override public void flush() throws IOException { file.flush(); }
        @Override public void close() throws IOException { file.close(); }
    }
}
