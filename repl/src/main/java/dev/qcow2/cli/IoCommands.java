package dev.qcow2.cli;

import dev.qcow2.write.Qcow2Writer;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The qemu-io commands {@code qcow2 io} runs, with qemu-io's syntax and messages:
 * {@code read [-P pat] [-v] [-q] off len}, {@code write [-P pat] [-z [-u]] [-c] [-q] off len},
 * {@code discard [-q] off len}, {@code flush}, {@code map}.
 */
final class IoCommands {
    private static final String READ_USAGE = "read [-abCqv] [-P pattern [-s off] [-l len]] off len -- reads a number of bytes at a specified offset";
    private static final String WRITE_USAGE = "write [-bcCfnquz] [-P pattern | -s source_file] off len -- writes a number of bytes at a specified offset";
    private static final String DISCARD_USAGE = "discard [-Cq] off len -- discards a number of bytes at a specified offset";

    private final Qcow2Writer image;
    private final PrintWriter out;
    private final PrintWriter err;

    IoCommands(Qcow2Writer image, PrintWriter out, PrintWriter err) {
        this.image = image;
        this.out = out;
        this.err = err;
    }

    /** Runs one command line; returns false when it failed (qemu-io then exits with 1). */
    boolean run(String line) {
        List<String> words = new ArrayList<>(Arrays.asList(line.trim().split("\\s+")));
        if (words.isEmpty() || words.get(0).isEmpty()) return true;
        String name = words.remove(0);
        try {
            return switch (name) {
                case "read", "r" -> read(words);
                case "write", "w" -> write(words);
                case "discard", "d" -> discard(words);
                case "flush", "f" -> { image.flush(); yield true; }
                case "map" -> { new IoMap(image, out).print(); yield true; }
                default -> {
                    err.println("command \"" + name + "\" not found");
                    yield false;
                }
            };
        } catch (OutOfRange e) {
            out.println(name + " failed: " + e.getMessage());
            return false;
        } catch (IOException | RuntimeException e) {
            out.println(name + " failed: " + Errors.describe(e));
            return false;
        }
    }

    private boolean read(List<String> args) throws IOException {
        Flags f = Flags.parse(args, "vq", "P");
        if (f == null || f.rest.size() != 2) { out.println(READ_USAGE); return false; }
        long off = HumanSize.parse("offset", f.rest.get(0));
        int len = (int) HumanSize.parse("count", f.rest.get(1));
        checkRange(off, len);
        long t0 = System.nanoTime();
        byte[] buf = image.read(off, len);
        double secs = (System.nanoTime() - t0) / 1e9;
        boolean ok = true;
        if (f.value('P') != null) {
            byte p = pattern(f.value('P'));
            for (byte b : buf) {
                if (b != p) {
                    out.println("Pattern verification failed at offset " + off + ", " + len + " bytes");
                    ok = false;
                    break;
                }
            }
        }
        if (f.has('q')) return ok;
        if (f.has('v')) out.print(IoReport.dump(buf, off));
        out.print(IoReport.report("read", secs, off, len, len, 1));
        return ok;
    }

    private boolean write(List<String> args) throws IOException {
        Flags f = Flags.parse(args, "zucq", "P");
        if (f == null || f.rest.size() != 2 || (f.has('z') && (f.has('c') || f.value('P') != null)) || (f.has('u') && !f.has('z'))) {
            out.println(WRITE_USAGE);
            return false;
        }
        long off = HumanSize.parse("offset", f.rest.get(0));
        long len = HumanSize.parse("count", f.rest.get(1));
        checkRange(off, len);
        int cs = image.geometry().clusterSize();
        if (f.has('c') && (off % cs != 0 || (len % cs != 0 && off + len != image.size()))) throw new OutOfRange("Invalid argument");
        long t0 = System.nanoTime();
        if (f.has('z')) {
            image.writeZeroes(off, len, f.has('u'));
        } else {
            byte[] data = new byte[Math.toIntExact(len)];
            Arrays.fill(data, f.value('P') == null ? (byte) 0xcd : pattern(f.value('P')));
            if (f.has('c')) writeCompressed(off, data);
            else image.write(off, data);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        if (!f.has('q')) out.print(IoReport.report("wrote", secs, off, len, len, 1));
        return true;
    }

    /** Like QEMU's qcow2_co_pwritev_compressed_part: cluster by cluster. */
    private void writeCompressed(long off, byte[] data) throws IOException {
        int cs = image.geometry().clusterSize();
        for (int at = 0; at < data.length; at += cs) {
            image.writeCompressed(off + at, Arrays.copyOfRange(data, at, Math.min(data.length, at + cs)));
        }
    }

    private boolean discard(List<String> args) throws IOException {
        Flags f = Flags.parse(args, "q", "");
        if (f == null || f.rest.size() != 2) { out.println(DISCARD_USAGE); return false; }
        long off = HumanSize.parse("offset", f.rest.get(0));
        long len = HumanSize.parse("count", f.rest.get(1));
        checkRange(off, len);
        long t0 = System.nanoTime();
        image.discard(off, len);
        double secs = (System.nanoTime() - t0) / 1e9;
        if (!f.has('q')) out.print(IoReport.report("discard", secs, off, len, len, 1));
        return true;
    }

    /** A request qemu-io's block layer refuses before the driver sees it; its errno text. */
    private static final class OutOfRange extends RuntimeException {
        OutOfRange(String errno) { super(errno); }
    }

    private void checkRange(long off, long len) {
        if (off < 0 || len < 0 || off > image.size() || len > image.size() - off) throw new OutOfRange("Input/output error");
    }

    /** qemu-io's parse_pattern: a number (decimal, 0x hex or 0 octal), low byte used. */
    private static byte pattern(String text) {
        return (byte) Long.decode(text).longValue();
    }
}
