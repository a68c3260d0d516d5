package dev.qcow2.convert;

import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;

/**
 * The new qcow2 file of a convert, written as qemu-img convert writes its target: with
 * cache=unsafe, i.e. no flush at all (a convert that dies midway leaves no image worth keeping
 * either way, and qemu-img 7.2 issues no fsync during or after a convert). Small writes (the
 * engine's 8-byte L2 entries and 2-byte refcounts, one of each per cluster) are gathered in
 * cached 4 KiB pages and written once, when the storage is closed or shrunk; reads see them.
 */
public final class ConvertTargetStorage implements WritableStorage {
    private static final int PAGE = 4096;

    private final WritableStorage file;
    private final TreeMap<Long, byte[]> pages = new TreeMap<>();
    private long end;

    public ConvertTargetStorage(WritableStorage file) throws IOException {
        this.file = file;
        this.end = file.size();
    }

    @Override public String describe() { return file.describe(); }

    @Override public synchronized long size() { return end; }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        int start = dst.position();
        file.readFully(offset, dst.duplicate());
        dst.position(start + len);
        // overlay the cached pages that overlap [offset, offset + len)
        for (Map.Entry<Long, byte[]> e : pages.subMap(offset / PAGE * PAGE, true, offset + len, false).entrySet()) {
            long p = e.getKey();
            long a = Math.max(p, offset), b = Math.min(p + PAGE, offset + len);
            if (a < b) dst.duplicate().position(start + (int) (a - offset)).put(e.getValue(), (int) (a - p), (int) (b - a));
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        int len = src.remaining();
        long p = offset / PAGE * PAGE;
        if (len < PAGE && offset + len <= p + PAGE) {
            byte[] page = pages.get(p);
            if (page == null) {
                page = new byte[PAGE];
                file.readFully(p, ByteBuffer.wrap(page));
                pages.put(p, page);
            }
            src.get(page, (int) (offset - p), len);
        } else {
            ByteBuffer copy = src.duplicate();
            file.write(offset, src);
            // keep cached pages that overlap the write up to date
            for (Map.Entry<Long, byte[]> e : pages.subMap(p, true, offset + len, false).entrySet()) {
                long q = e.getKey();
                long a = Math.max(q, offset), b = Math.min(q + PAGE, offset + len);
                if (a < b) copy.duplicate().position(copy.position() + (int) (a - offset))
                        .get(e.getValue(), (int) (a - q), (int) (b - a));
            }
        }
        grow(offset + len);
    }

    private synchronized void grow(long to) { end = Math.max(end, to); }

    /** No-op: see the class comment. */
    @Override public void flush() { }

    /** Growth is applied at close (reads past the file's end see zeros meanwhile); shrinking at once. */
    @Override
    public void setLength(long length) throws IOException {
        if (length < end) {
            writeBack();
            file.setLength(length);
        }
        end = length;
    }

    private void writeBack() throws IOException {
        for (Map.Entry<Long, byte[]> e : pages.entrySet()) {
            long p = e.getKey();
            int n = (int) Math.min(PAGE, end - p);   // never grow the file past what was written
            if (n > 0) file.write(p, ByteBuffer.wrap(e.getValue(), 0, n));
        }
        pages.clear();
    }

    @Override
    public void close() throws IOException {
        try {
            writeBack();
            if (file.size() < end) file.setLength(end);
        } finally {
            file.close();
        }
    }
}
