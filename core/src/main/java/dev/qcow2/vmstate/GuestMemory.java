package dev.qcow2.vmstate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Random access to one RAM block at guest-physical addresses, without holding the RAM: an index
 * from page number to where the page's bytes are in the stream (one pair of longs per page sent
 * with data or a non-zero fill), the bytes read from the stream on demand. Addresses between the
 * ranges (the x86 hole below 4 GiB) read as zeros.
 */
public final class GuestMemory {
    private final VmStateBytes bytes;
    private final MemoryLayout layout;
    private final int pageSize;
    /** Sorted page numbers, and for each: the stream offset of its bytes, or -(fill + 1) for a filled page. */
    private final long[] pages;
    private final long[] where;

    private GuestMemory(VmStateBytes bytes, MemoryLayout layout, int pageSize, long[] pages, long[] where) {
        this.bytes = bytes;
        this.layout = layout;
        this.pageSize = pageSize;
        this.pages = pages;
        this.where = where;
    }

    /** Reads the stream once to index the pages of the block {@code options} name. */
    static GuestMemory index(VmStateBytes bytes, MemoryOptions options) throws IOException {
        Indexer indexer = new Indexer(bytes, options);
        MigrationStream.read(bytes, indexer);
        if (indexer.layout == null) throw bytes.error(0, "the stream has no RAM block list");
        return indexer.build();
    }

    public MemoryLayout layout() { return layout; }

    public int pageSize() { return pageSize; }

    /** The guest-physical end of the RAM (past the 4 GiB line when RAM is split). */
    public long size() { return layout.guestEnd(); }

    /** Reads {@code length} bytes at guest-physical {@code gpa}. */
    public void read(long gpa, byte[] buf, int off, int length) throws IOException {
        if (gpa < 0 || length < 0 || gpa > size() || length > size() - gpa) {
            throw new IllegalArgumentException(String.format("guest-physical range 0x%x+%d outside the RAM (0x%x bytes)", gpa, length, size()));
        }
        Arrays.fill(buf, off, off + length, (byte) 0);
        for (RamRange r : layout.ranges()) {
            long from = Math.max(gpa, r.guestPhysical());
            long to = Math.min(gpa + length, r.guestEnd());
            if (from < to) readBlock(r.blockOffset() + (from - r.guestPhysical()), buf, off + (int) (from - gpa), (int) (to - from));
        }
    }

    private void readBlock(long blockOffset, byte[] buf, int off, int length) throws IOException {
        while (length > 0) {
            long page = blockOffset / pageSize;
            int in = (int) (blockOffset % pageSize);
            int n = Math.min(length, pageSize - in);
            int i = Arrays.binarySearch(pages, page);
            if (i >= 0) {
                long w = where[i];
                if (w >= 0) bytes.read(w + in, buf, off, n);
                else Arrays.fill(buf, off, off + n, (byte) (-w - 1));
            }
            blockOffset += n;
            off += n;
            length -= n;
        }
    }

    /** Guest-physical addresses of the pages sent with data or a non-zero fill (for charts, searches). */
    public long pagesWithData() { return pages.length; }

    /**
     * The first guest-physical address at or after {@code from} where {@code pattern} occurs, or -1.
     * Only pages with data are searched: a pattern of zeros is not looked for in holes.
     */
    public long find(byte[] pattern, long from) throws IOException {
        if (pattern.length == 0 || pattern.length > pageSize) throw new IllegalArgumentException("pattern of 1 to " + pageSize + " bytes");
        byte[] buf = new byte[2 * pageSize];
        for (RamRange r : layout.ranges()) {
            for (int i = firstPageAtOrAfter(r.blockOffset()); i < pages.length && pages[i] * pageSize < r.blockEnd(); i++) {
                long gpaPage = r.guestPhysical() + pages[i] * pageSize - r.blockOffset();
                if (gpaPage + pageSize <= from) continue;
                // this page and the start of the next (a match may straddle the boundary)
                long span = Math.min(2L * pageSize, r.guestEnd() - gpaPage);
                read(gpaPage, buf, 0, (int) span);
                for (int p = 0; p < pageSize && p + pattern.length <= span; p++) {
                    if (gpaPage + p < from) continue;
                    if (matches(buf, p, pattern)) return gpaPage + p;
                }
            }
        }
        return -1;
    }

    private int firstPageAtOrAfter(long blockOffset) {
        int i = Arrays.binarySearch(pages, blockOffset / pageSize);
        return i >= 0 ? i : -i - 1;
    }

    private static boolean matches(byte[] buf, int at, byte[] pattern) {
        for (int k = 0; k < pattern.length; k++) if (buf[at + k] != pattern[k]) return false;
        return true;
    }

    /** Collects (page, where) in stream order; the last entry for a page wins. */
    private static final class Indexer implements MigrationStream.RamSink {
        private final VmStateBytes bytes;
        private final MemoryOptions options;
        MemoryLayout layout;
        int pageSize;
        long[] pages = new long[1024];
        long[] where = new long[1024];
        int n;
        boolean ascending = true;

        Indexer(VmStateBytes bytes, MemoryOptions options) {
            this.bytes = bytes;
            this.options = options;
        }

        @Override
        public void blockList(Map<String, Long> blocks, String machineType, int pageSize, long streamOffset) throws IOException {
            if (layout != null) throw bytes.error(streamOffset, "a second RAM block list");
            layout = MemoryLayout.resolve(blocks, machineType, options, bytes, streamOffset);
            this.pageSize = pageSize;
        }

        @Override
        public void page(String block, long offset, byte[] page, long streamOffset) {
            long base = layout.base(block);
            if (base >= 0) add((base + offset) / pageSize, streamOffset);
        }

        @Override
        public void zero(String block, long offset, int fill, long streamOffset) {
            // a zero page need only be kept when it may replace an earlier page
            // (while pages come in ascending order, one past the last cannot replace anything)
            long base = layout.base(block);
            if (base < 0) return;
            long page = (base + offset) / pageSize;
            if (fill != 0 || !ascending || n > 0 && page <= pages[n - 1]) add(page, -(fill + 1L));
        }

        private void add(long page, long w) {
            if (n > 0 && page <= pages[n - 1]) ascending = false;
            if (n == pages.length) {
                pages = Arrays.copyOf(pages, n * 2);
                where = Arrays.copyOf(where, n * 2);
            }
            pages[n] = page;
            where[n] = w;
            n++;
        }

        GuestMemory build() {
            if (ascending) return new GuestMemory(bytes, layout, pageSize, Arrays.copyOf(pages, n), Arrays.copyOf(where, n));
            // stable sort of the entries by page, the last one per page kept
            List<Integer> order = new ArrayList<>(n);
            for (int i = 0; i < n; i++) order.add(i);
            order.sort((a, b) -> Long.compare(pages[a], pages[b]));
            long[] p = new long[n];
            long[] w = new long[n];
            int m = 0;
            for (int i : order) {
                if (m > 0 && p[m - 1] == pages[i]) m--;
                p[m] = pages[i];
                w[m] = where[i];
                m++;
            }
            // zero pages that replaced nothing are dropped again (a hole reads as zeros)
            int k = 0;
            for (int i = 0; i < m; i++) if (w[i] != -1) { p[k] = p[i]; w[k] = w[i]; k++; }
            return new GuestMemory(bytes, layout, pageSize, Arrays.copyOf(p, k), Arrays.copyOf(w, k));
        }
    }
}
