package dev.qcow2.vmstate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Sequential big-endian reads over {@link VmStateBytes} (QEMUFile's qemu_get_* as the loader
 * uses them), through a buffer of at most {@link VmStateBytes#CHUNK} bytes. Reading past the
 * stream's end fails with the offset where the missing bytes should have been.
 */
public final class StreamCursor {
    private final VmStateBytes bytes;
    private final byte[] buf;
    /** Stream offset of buf[0]. */
    private long bufStart;
    private int bufLength;
    private int bufPos;

    StreamCursor(VmStateBytes bytes) {
        this.bytes = bytes;
        this.buf = new byte[(int) Math.min(VmStateBytes.CHUNK, Math.max(16, bytes.size()))];
    }

    /** Stream offset of the next byte. */
    public long position() { return bufStart + bufPos; }

    public long remaining() { return bytes.size() - position(); }

    private void need(int n) throws IOException {
        if (bufLength - bufPos >= n) return;
        long at = position();
        if (remaining() < n) {
            throw bytes.error(at, "stream truncated: " + n + " more bytes needed, " + remaining() + " left");
        }
        int keep = bufLength - bufPos;
        System.arraycopy(buf, bufPos, buf, 0, keep);
        int fill = (int) Math.min(buf.length - keep, bytes.size() - at - keep);
        bytes.read(at + keep, buf, keep, fill);
        bufStart = at;
        bufPos = 0;
        bufLength = keep + fill;
    }

    public int u8() throws IOException {
        need(1);
        return buf[bufPos++] & 0xff;
    }

    /** The next byte without consuming it, or -1 at the end of the stream. */
    public int peek() throws IOException {
        if (remaining() <= 0) return -1;
        need(1);
        return buf[bufPos] & 0xff;
    }

    public int be16() throws IOException {
        need(2);
        int v = ((buf[bufPos] & 0xff) << 8) | (buf[bufPos + 1] & 0xff);
        bufPos += 2;
        return v;
    }

    public long be32() throws IOException {
        need(4);
        long v = 0;
        for (int i = 0; i < 4; i++) v = (v << 8) | (buf[bufPos + i] & 0xff);
        bufPos += 4;
        return v;
    }

    public long be64() throws IOException {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (buf[bufPos + i] & 0xff);
        bufPos += 8;
        return v;
    }

    /** Reads exactly {@code length} bytes. */
    public void read(byte[] out, int off, int length) throws IOException {
        while (length > 0) {
            need(1);
            int n = Math.min(length, bufLength - bufPos);
            System.arraycopy(buf, bufPos, out, off, n);
            bufPos += n;
            off += n;
            length -= n;
        }
    }

    /** Skips {@code n} bytes, which must all be in the stream. */
    public void skip(long n) throws IOException {
        if (n < 0 || n > remaining()) {
            throw bytes.error(position(), "stream truncated: " + n + " bytes to skip, " + remaining() + " left");
        }
        long inBuf = bufLength - bufPos;
        if (n <= inBuf) {
            bufPos += (int) n;
        } else {
            long target = position() + n;
            bufStart = target;
            bufPos = 0;
            bufLength = 0;
        }
    }

    /** A string of a one-byte length then that many bytes (qemu_get_counted_string). */
    public String countedString() throws IOException {
        int len = u8();
        byte[] b = new byte[len];
        read(b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    VmStateException error(long at, String message) { return bytes.error(at, message); }
}
