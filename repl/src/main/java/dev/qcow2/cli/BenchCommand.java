package dev.qcow2.cli;

import dev.qcow2.image.BlockDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code qcow2 bench}: qemu-img bench's read test (7.2). Request i reads {@code size} bytes at
 * {@code (offset + i*step) mod image size} (7.2 wraps modulo the image size); up to
 * {@code depth} requests are in flight, served by min(depth, 2*CPUs) reader threads issuing
 * positional reads on the shared image.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Read benchmark, like qemu-img bench (read mode).")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-f", "--format"}, paramLabel = "FMT", description = "Image format: qcow2 or raw (default: probed).")
    String format;

    @Option(names = {"-c", "--count"}, paramLabel = "COUNT", description = "Number of requests (default: 75000).")
    String count = "75000";

    @Option(names = {"-d", "--depth"}, paramLabel = "DEPTH", description = "Requests in flight (default: 64).")
    String depth = "64";

    @Option(names = {"-s", "--buffer-size"}, paramLabel = "SIZE", description = "Bytes per request, k/M/G suffixes (default: 4096).")
    String size = "4096";

    @Option(names = {"-S", "--step-size"}, paramLabel = "STEP", description = "Offset step between requests (default: the buffer size).")
    String step;

    @Option(names = {"-o", "--offset"}, paramLabel = "OFFSET", description = "Offset of the first request (default: 0).")
    String offset = "0";

    @Option(names = {"-q", "--quiet"}, description = "Print nothing.")
    boolean quiet;

    @Option(names = {"-U", "--force-share"}, description = "Accepted for qemu-img compatibility.")
    boolean forceShare;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        long n = positive("count", count);
        long d = positive("queue depth", depth);
        long bufSize = HumanSize.parse("buffer size", size);
        if (bufSize <= 0 || bufSize > Integer.MAX_VALUE - 8) throw new Errors.CliException("Invalid buffer size specified");
        long stepSize = step == null ? bufSize : HumanSize.parse("step_size", step);
        long start = HumanSize.parse("offset", offset);
        try (BlockDevice image = ImageOpener.open(file, format)) {
            long imageSize = image.size();
            if (imageSize <= 0) throw new Errors.CliException(file + ": image is empty");
            if (!quiet) {
                System.out.printf("Sending %d read requests, %d bytes each, %d in parallel (starting at offset %d, step size %d)%n",
                        n, bufSize, d, start, stepSize);
                System.out.flush();
            }
            long t0 = System.nanoTime();
            run(image, n, (int) Math.min(d, n), (int) bufSize, start, stepSize, imageSize);
            double secs = (System.nanoTime() - t0) / 1e9;
            if (!quiet) System.out.printf("Run completed in %.3f seconds.%n", secs);
        }
        return 0;
    }

    private static void run(BlockDevice image, long count, int depth, int bufSize, long start, long step, long imageSize)
            throws Exception {
        int threads = Math.max(1, Math.min(depth, 2 * Runtime.getRuntime().availableProcessors()));
        AtomicLong next = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    byte[] buf = new byte[bufSize];
                    long i;
                    while ((i = next.getAndIncrement()) < count) {
                        // 7.2: offsets wrap modulo the image size; a request near the end is cut at the end
                        long off = Math.floorMod(start + i * step, imageSize);
                        int len = (int) Math.min(bufSize, imageSize - off);
                        image.read(off, buf, 0, len);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : workers) Errors.unwrap(f);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long positive(String what, String text) {
        try {
            long v = Long.parseLong(text);
            if (v < 1 || v > Integer.MAX_VALUE) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new Errors.CliException("Invalid " + what + " specified");
        }
    }
}
