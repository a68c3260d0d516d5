package dev.qcow2.cli;

import java.io.ByteArrayOutputStream;

/**
 * QEMU's base64 decoding (util/base64.c qbase64_decode): the input must consist of the base64
 * alphabet, '=' and newlines only ("Base64 data contains invalid characters"); the decoding
 * itself is glib's lenient g_base64_decode (an incomplete last group is dropped, '=' ends a
 * group's bytes early). Error messages never quote the data: it is usually a secret.
 */
final class QemuBase64 {
    private QemuBase64() { }

    private static final String VALID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n";

    static byte[] decode(byte[] input) {
        for (byte b : input) {
            if (b == 0) throw new Errors.CliException("Base64 data contains embedded NUL characters");
            if (VALID.indexOf(b & 0xff) < 0 || (b & 0x80) != 0) throw new Errors.CliException("Base64 data contains invalid characters");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(input.length * 3 / 4);
        int v = 0;
        int n = 0;
        int last0 = 0;
        int last1 = 0;
        for (byte b : input) {
            int rank = rank(b);
            if (rank < 0) continue;                     // a newline
            last1 = last0;
            last0 = b;
            v = v << 6 | rank;
            if (++n == 4) {
                out.write(v >> 16);
                if (last1 != '=') out.write(v >> 8);
                if (last0 != '=') out.write(v);
                n = 0;
                v = 0;
            }
        }
        return out.toByteArray();
    }

    /** glib's mime_base64_rank: the 6-bit value, 0 for '=', -1 for what is skipped. */
    private static int rank(byte b) {
        if (b >= 'A' && b <= 'Z') return b - 'A';
        if (b >= 'a' && b <= 'z') return b - 'a' + 26;
        if (b >= '0' && b <= '9') return b - '0' + 52;
        if (b == '+') return 62;
        if (b == '/') return 63;
        if (b == '=') return 0;
        return -1;
    }
}
