package dev.qcow2.cli;

import java.util.Locale;

/** qemu-io's output formatting: cvtstr, timestr, print_report and dump_buffer, byte for byte. */
final class IoReport {
    private IoReport() { }

    /** qemu-io's cvtstr: three decimals, ".000" dropped, binary unit suffix. */
    static String cvtstr(double value) {
        String[] suffixes = {" EiB", " PiB", " TiB", " GiB", " MiB", " KiB"};
        String suffix = " bytes";
        for (int i = 0; i < suffixes.length; i++) {
            double unit = Math.pow(1024, 6 - i);
            if (value >= unit) {
                suffix = suffixes[i];
                value /= unit;
                break;
            }
        }
        // glibc's printf rounds the exact binary value, ties to even
        String s = dev.qcow2.units.ExactDecimal.fixed(value, 3);
        return s.endsWith(".000") ? s.substring(0, s.length() - 4) + suffix : s + suffix;
    }

    /** qemu-io's timestr without the fixed-time flags. */
    static String timestr(double seconds) {
        long whole = (long) seconds;
        if (whole == 0) return String.format(Locale.ROOT, "%05.2f sec", seconds);
        return String.format(Locale.ROOT, "%d:%05.2f", whole / 60, (whole % 60) + (seconds - whole));
    }

    /** The two lines qemu-io prints after a read, write or discard. */
    static String report(String op, double seconds, long offset, long count, long total, int ops) {
        double t = Math.max(seconds, 1e-9);
        return String.format(Locale.ROOT, "%s %d/%d bytes at offset %d%n%s, %d ops; %s (%s/sec and %.4f ops/sec)%n",
                op, total, count, offset, cvtstr(total), ops, timestr(seconds), cvtstr(total / t), ops / t);
    }

    /** qemu-io's dump_buffer (read -v): offset, 16 hex bytes, alphanumerics. */
    static String dump(byte[] buf, long offset) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < buf.length; i += 16) {
            sb.append(String.format(Locale.ROOT, "%08x:  ", offset + i));
            int n = Math.min(16, buf.length - i);
            for (int j = 0; j < n; j++) sb.append(String.format(Locale.ROOT, "%02x ", buf[i + j] & 0xff));
            sb.append(' ');
            for (int j = 0; j < n; j++) {
                char c = (char) (buf[i + j] & 0xff);
                sb.append(c < 128 && Character.isLetterOrDigit(c) ? c : '.');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
