package dev.qcow2.cli;

import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.OpenOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code qcow2 bench}: qemu-img bench (7.2), read test or, with {@code -w}, write test
 * ({@link BenchWriter}). Request i covers {@code size} bytes at {@code (offset + i*step) mod
 * image size} (7.2 wraps modulo the image size; a request near the end is cut at the end); up
 * to {@code depth} requests are in flight. Reads are served by min(depth, 2*CPUs) threads
 * issuing positional reads on the shared image. Options are checked in qemu-img's order, with
 * its messages.
 */
@Command(name = "bench", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "I/O benchmark, like qemu-img bench (read, or write with -w).")
final class BenchCommand implements Callable<Integer> {
    private static final Set<String> CACHE_MODES = Set.of("none", "writeback", "unsafe", "directsync", "writethrough");
    private static final Set<String> AIO_MODES = Set.of("threads", "native", "io_uring");
    private static final String SUFFIX_HINT = " You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, "
            + "gigabytes, terabytes, petabytes and exabytes.";

    @Spec CommandSpec spec;

    @Mixin FormatOption format;

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

    @Option(names = {"-w", "--write"}, description = "Write test (opens the image read-write); the default is a read test.")
    boolean write;

    @Option(names = "--pattern", paramLabel = "PATTERN", description = "Byte written by the write test (default: 0).")
    String pattern;

    @Option(names = "--flush-interval", paramLabel = "N", description = "Write test: flush each time the requests not yet sent are a multiple of N (N >= depth).")
    String flushInterval;

    @Option(names = "--no-drain", description = "Flush without waiting for the requests in flight.")
    boolean noDrain;

    @Mixin CacheOption cacheOption;

    @Option(names = {"-n", "--native"}, description = "Native AIO (accepted like qemu-img; needs -t none or directsync).")
    boolean nativeAio;

    @Option(names = {"-i", "--aio"}, paramLabel = "AIO", description = "AIO backend: threads, native or io_uring (accepted like qemu-img).")
    String aio;

    @Mixin QuietOption quiet;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        ImageArg arg = objects.image(file, format.value, imageOpts, spec.commandLine().getErr());
        long n = unsigned(count, Integer.MAX_VALUE, "Invalid request count specified");
        long d = unsigned(depth, Integer.MAX_VALUE, "Invalid queue depth specified");
        // 7.2 hangs with depth 0; later versions require >= 1, as this does
        if (d == 0) throw new Errors.CliException("Invalid queue depth specified");
        if (aio != null && !AIO_MODES.contains(aio)) throw new Errors.CliException("Invalid aio option: " + aio);
        long start = size("offset", offset, Long.MAX_VALUE);
        long bufSize = size("buffer size", size, Integer.MAX_VALUE);
        long stepSize = step == null ? bufSize : size("step_size", step, Long.MAX_VALUE);
        String cache = cacheOption.orElse("writeback");
        if (!CACHE_MODES.contains(cache)) throw new Errors.CliException("Invalid cache mode");
        int patternByte = pattern == null ? 0 : (int) unsigned(pattern, 0xff, "Invalid pattern byte specified");
        long flushEvery = flushInterval == null ? 0 : unsigned(flushInterval, Integer.MAX_VALUE, "Invalid flush interval specified");
        if (!write && flushEvery != 0) throw new Errors.CliException("--flush-interval is only available in write tests");
        if (flushEvery != 0 && flushEvery < d) throw new Errors.CliException("Flush interval can't be smaller than depth");
        boolean direct = cache.equals("none") || cache.equals("directsync");
        if ((nativeAio || "native".equals(aio)) && !direct) {
            throw new Errors.CliException("Could not open '" + file + "': aio=native was specified, but it requires cache.direct=on, which was not specified.");
        }
        BenchWriter.Plan plan = new BenchWriter.Plan(n, (int) d, (int) bufSize, start, stepSize, (byte) patternByte, flushEvery,
                cache.equals("writethrough") || cache.equals("directsync"), cache.equals("unsafe"));
        // the report's lines; null with -q
        PrintWriter out = quiet.on ? null : spec.commandLine().getOut();
        if (write) {
            BenchWriter.run(arg, plan, out, allow.policy());
            return 0;
        }
        try (BlockDevice image = ImageOpener.open(arg, allow.apply(OpenOptions.permissive()))) {
            long imageSize = image.size();
            if (imageSize <= 0) throw new Errors.CliException(file + ": image is empty");
            announce(plan, "read", out);
            long t0 = System.nanoTime();
            if (bufSize > 0) run(image, n, (int) Math.min(d, Math.max(n, 1)), (int) bufSize, start, stepSize, imageSize);
            completed(t0, out);
        }
        return 0;
    }

    /** qemu-img bench's first line(s), on {@code out} (null: quiet). */
    static void announce(BenchWriter.Plan p, String kind, PrintWriter out) {
        if (out == null) return;
        out.printf("Sending %d %s requests, %d bytes each, %d in parallel (starting at offset %d, step size %d)%n",
                p.count(), kind, p.bufSize(), p.depth(), p.offset(), p.step());
        if (p.flushInterval() != 0) out.printf("Sending flush every %d requests%n", p.flushInterval());
        out.flush();
    }

    /** qemu-img bench's last line, on {@code out} (null: quiet). */
    static void completed(long t0, PrintWriter out) {
        double secs = (System.nanoTime() - t0) / 1e9;
        if (out == null) return;
        out.printf("Run completed in %.3f seconds.%n", secs);
        out.flush();
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
                        long off = BenchWriter.requestOffset(start, i, step, imageSize);
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

    /** qemu_strtoul with base 0 (decimal, 0x hex, 0 octal) and an upper bound, as qemu-img bench parses counts. */
    static long unsigned(String text, long max, String error) {
        String t = text.trim();
        try {
            BigInteger v;
            if (t.startsWith("0x") || t.startsWith("0X")) v = new BigInteger(t.substring(2), 16);
            else if (t.length() > 1 && t.startsWith("0")) v = new BigInteger(t.substring(1), 8);
            else v = new BigInteger(t);
            if (v.signum() < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) throw new NumberFormatException();
            return v.longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Errors.CliException(error);
        }
    }

    /** qemu-img's cvtnum: a size with k/M/G/T/P/E suffixes, with its two error messages. */
    private static long size(String what, String text, long max) {
        long v;
        try {
            v = HumanSize.parse(what, text);
        } catch (Errors.CliException e) {
            throw new Errors.CliException("Invalid " + what + " specified." + SUFFIX_HINT);
        }
        if (v > max) throw new Errors.CliException("Invalid " + what + " specified. Must be between 0 and " + max + ".");
        return v;
    }
}
