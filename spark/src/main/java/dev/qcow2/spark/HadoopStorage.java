package dev.qcow2.spark;

import dev.qcow2.storage.Storage;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;

/**
 * A {@link Storage} over any Hadoop file system (local, HDFS, S3A, ...): positional reads only
 * ({@link FSDataInputStream#readFully(long, byte[], int, int)}, no shared cursor, so concurrent
 * readers are safe), the stream opened with the {@code random} read policy (S3A then fetches the
 * ranges asked for instead of streaming the whole object). Bytes past the end read as zeros, as
 * the interface requires. Read-only: no write path exists.
 */
final class HadoopStorage implements Storage {
    /** Hadoop's openFile() option (HADOOP-16202) selecting the input policy. */
    static final String READ_POLICY = "fs.option.openfile.read.policy";

    private final String describe;
    private final long length;
    private final FSDataInputStream in;

    private HadoopStorage(String describe, long length, FSDataInputStream in) {
        this.describe = describe;
        this.length = length;
        this.in = in;
    }

    /** Opens the regular file {@code status} of {@code fs}; {@code describe} names it in messages. */
    static HadoopStorage open(FileSystem fs, FileStatus status, String describe) throws IOException {
        Path path = status.getPath();
        FSDataInputStream in;
        try {
            in = fs.openFile(path).withFileStatus(status).opt(READ_POLICY, "random").build().get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted opening " + describe);
        }
        return new HadoopStorage(describe, status.getLen(), in);
    }

    @Override public String describe() { return describe; }

    @Override public long size() { return length; }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
        Storage.checkRange(describe, offset, dst.remaining());
        int want = dst.remaining();
        int inFile = (int) Math.max(0, Math.min(want, length - offset));
        if (inFile > 0) {
            if (dst.hasArray()) {
                in.readFully(offset, dst.array(), dst.arrayOffset() + dst.position(), inFile);
                dst.position(dst.position() + inFile);
            } else {
                byte[] tmp = new byte[inFile];
                in.readFully(offset, tmp, 0, inFile);
                dst.put(tmp);
            }
        }
        while (dst.hasRemaining()) dst.put((byte) 0);
    }

    @Override
    public void close() throws IOException { in.close(); }
}
