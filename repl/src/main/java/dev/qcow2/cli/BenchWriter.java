package dev.qcow2.cli;

import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * qemu-img bench's write test ({@code -w}): every request writes {@code bufSize} bytes of the
 * pattern byte. Up to {@code depth} requests are in flight: they go to the image as one
 * {@link Qcow2Writer#writeAll} batch, which shares the ordering point of their metadata the
 * way QEMU's in-flight requests share its metadata caches. Flushes come where qemu-img's
 * bench_cb issues them: whenever the number of requests not yet sent is a multiple of the
 * flush interval (a batch never spans such a point); with cache modes writethrough and
 * directsync after every batch; never with unsafe (but the image is flushed when closed).
 */
final class BenchWriter {
    private BenchWriter() { }

    record Plan(long count, int depth, int bufSize, long offset, long step, byte pattern, long flushInterval,
                boolean writeThrough, boolean unsafe) { }

    /** The target of the writes: a qcow2 image through the write engine, or a raw file. */
    private interface Target extends AutoCloseable {
        long size();
        void writeAll(long[] offsets, ByteBuffer[] buffers) throws IOException;
        void flush() throws IOException;
        @Override void close() throws IOException;
    }

    /** Runs the write test; the report goes to {@code out} (null: quiet). */
    static void run(ImageArg image, Plan plan, java.io.PrintWriter out, dev.qcow2.image.FollowPolicy follow) throws Exception {
        String file = image.file();
        String fmt = ImageOpener.format(image);
        try (Target target = fmt.equals("qcow2") ? qcow2(image, follow) : raw(file)) {
            long imageSize = target.size();
            if (imageSize <= 0) throw new Errors.CliException(file + ": image is empty");
            BenchCommand.announce(plan, "write", out);
            long t0 = System.nanoTime();
            if (plan.bufSize() > 0) write(target, plan, imageSize);
            BenchCommand.completed(t0, out);
        }
    }

    /** Request {@code i}'s offset: 7.2 adds the step and wraps modulo the image size. */
    static long requestOffset(long start, long i, long step, long imageSize) {
        try {
            return Math.floorMod(Math.addExact(start, Math.multiplyExact(i, step)), imageSize);
        } catch (ArithmeticException overflow) {
            return BigInteger.valueOf(i).multiply(BigInteger.valueOf(step)).add(BigInteger.valueOf(start))
                    .mod(BigInteger.valueOf(imageSize)).longValue();
        }
    }

    private static void write(Target target, Plan p, long imageSize) throws IOException {
        ByteBuffer pattern = ByteBuffer.allocateDirect(p.bufSize());
        for (int i = 0; i < p.bufSize(); i++) pattern.put(i, p.pattern());
        long remaining = p.count();   // requests not yet sent
        long offset = Math.floorMod(p.offset(), imageSize);
        long step = Math.floorMod(p.step(), imageSize);
        while (remaining > 0) {
            long n = Math.min(p.depth(), remaining);
            if (p.flushInterval() != 0) {
                long nextFlushAt = (remaining - 1) / p.flushInterval() * p.flushInterval();
                n = Math.min(n, remaining - nextFlushAt);
            }
            long[] offsets = new long[(int) n];
            ByteBuffer[] buffers = new ByteBuffer[(int) n];
            for (int i = 0; i < n; i++) {
                int len = (int) Math.min(p.bufSize(), imageSize - offset);
                offsets[i] = offset;
                buffers[i] = pattern.slice(0, len);
                offset = (offset + step) % imageSize;
            }
            target.writeAll(offsets, buffers);
            remaining -= n;
            boolean flush = p.writeThrough() || (p.flushInterval() != 0 && remaining % p.flushInterval() == 0);
            if (flush && !p.unsafe()) target.flush();
        }
    }

    private static Target qcow2(ImageArg image, dev.qcow2.image.FollowPolicy follow) throws IOException {
        Qcow2Writer w = Qcow2Writer.open(image.path(), WriteOptions.defaults().withSecrets(image.lookup()).withFollow(follow));
        return new Target() {
            @Override public long size() { return w.size(); }
            @Override public void writeAll(long[] offsets, ByteBuffer[] buffers) throws IOException { w.writeAll(offsets, buffers); }
            @Override public void flush() throws IOException { w.flush(); }
            @Override public void close() throws IOException { w.close(); }
        };
    }

    private static Target raw(String file) throws IOException {
        WritableFileStorage s = WritableFileStorage.open(Path.of(file));
        long size = s.size() & ~511L;
        return new Target() {
            @Override public long size() { return size; }
            @Override public void writeAll(long[] offsets, ByteBuffer[] buffers) throws IOException {
                for (int i = 0; i < offsets.length; i++) s.write(offsets[i], buffers[i].duplicate());
            }
            @Override public void flush() throws IOException { s.flush(); }
            @Override public void close() throws IOException {
                try {
                    s.flush();
                } finally {
                    s.close();
                }
            }
        };
    }
}
