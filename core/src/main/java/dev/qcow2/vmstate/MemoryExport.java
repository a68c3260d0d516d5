package dev.qcow2.vmstate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * Writes one RAM block's pages, as the stream delivers them, into a memory image: raw
 * (guest-physical offsets, sparse), LiME or ELF core. Pages are written where they belong as they
 * arrive (positional writes); a zero page leaves a hole unless a data page was written there
 * before. Memory: one bit per page of the block.
 */
final class MemoryExport implements MigrationStream.RamSink {
    static final int LIME_MAGIC = 0x4C694D45;
    static final int LIME_HEADER = 32;
    static final int ELF_HEADER = 64, ELF_PHDR = 56;

    private final VmStateBytes bytes;
    private final FileChannel out;
    private final VmStateFormat format;
    private final MemoryOptions options;
    private MemoryLayout layout;
    /** File offset of each range's first byte. */
    private long[] fileBase;
    private long fileSize;
    private BitSet written;
    private byte[] filled;
    private int pageSize;

    MemoryExport(VmStateBytes bytes, FileChannel out, VmStateFormat format, MemoryOptions options) {
        this.bytes = bytes;
        this.out = out;
        this.format = format;
        this.options = options;
    }

    /** Decodes the stream into {@code target}; returns the layout written. */
    static MemoryLayout write(VmStateBytes bytes, Path target, VmStateFormat format, MemoryOptions options) throws IOException {
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            MemoryExport export = new MemoryExport(bytes, ch, format, options);
            MigrationStream.read(bytes, export);
            if (export.layout == null) throw bytes.error(0, "the stream has no RAM block list");
            export.finish();
            return export.layout;
        }
    }

    @Override
    public void blockList(Map<String, Long> blocks, String machineType, int pageSize, long streamOffset) throws IOException {
        if (layout != null) throw bytes.error(streamOffset, "a second RAM block list");
        this.pageSize = pageSize;
        layout = MemoryLayout.resolve(blocks, machineType, options, bytes, streamOffset);
        List<RamRange> ranges = layout.ranges();
        fileBase = new long[ranges.size()];
        long pos = switch (format) {
            case RAW -> 0;
            case LIME -> LIME_HEADER;
            case ELF -> align(ELF_HEADER + (long) ELF_PHDR * ranges.size(), 4096);
            case STREAM -> throw new IllegalStateException("the stream format is a copy");
        };
        for (int i = 0; i < ranges.size(); i++) {
            RamRange r = ranges.get(i);
            fileBase[i] = format == VmStateFormat.RAW ? r.guestPhysical() : pos;
            pos = fileBase[i] + r.length() + (format == VmStateFormat.LIME ? LIME_HEADER : 0);
        }
        fileSize = format == VmStateFormat.RAW ? layout.guestEnd() : pos - (format == VmStateFormat.LIME ? LIME_HEADER : 0);
        written = new BitSet();
        writeHeaders();
    }

    private static long align(long v, long a) { return (v + a - 1) / a * a; }

    private void writeHeaders() throws IOException {
        List<RamRange> ranges = layout.ranges();
        switch (format) {
            case LIME -> {
                for (int i = 0; i < ranges.size(); i++) {
                    RamRange r = ranges.get(i);
                    ByteBuffer h = ByteBuffer.allocate(LIME_HEADER).order(ByteOrder.LITTLE_ENDIAN);
                    h.putInt(LIME_MAGIC).putInt(1).putLong(r.guestPhysical()).putLong(r.guestEnd() - 1).putLong(0);
                    h.flip();
                    writeFully(h, fileBase[i] - LIME_HEADER);
                }
            }
            case ELF -> {
                ByteBuffer h = ByteBuffer.allocate(ELF_HEADER + ELF_PHDR * ranges.size()).order(ByteOrder.LITTLE_ENDIAN);
                h.put(new byte[]{0x7f, 'E', 'L', 'F', 2 /* ELFCLASS64 */, 1 /* little endian */, 1 /* EV_CURRENT */, 0});
                h.put(new byte[8]);
                h.putShort((short) 4);            // ET_CORE
                h.putShort((short) 62);           // EM_X86_64
                h.putInt(1);                      // e_version
                h.putLong(0);                     // e_entry
                h.putLong(ELF_HEADER);            // e_phoff
                h.putLong(0);                     // e_shoff
                h.putInt(0);                      // e_flags
                h.putShort((short) ELF_HEADER);   // e_ehsize
                h.putShort((short) ELF_PHDR);     // e_phentsize
                h.putShort((short) ranges.size()); // e_phnum
                h.putShort((short) 0).putShort((short) 0).putShort((short) 0);
                for (int i = 0; i < ranges.size(); i++) {
                    RamRange r = ranges.get(i);
                    h.putInt(1);                  // PT_LOAD
                    h.putInt(7);                  // PF_R | PF_W | PF_X
                    h.putLong(fileBase[i]);       // p_offset
                    h.putLong(0);                 // p_vaddr: physical dump, as dump-guest-memory without paging
                    h.putLong(r.guestPhysical()); // p_paddr
                    h.putLong(r.length());        // p_filesz
                    h.putLong(r.length());        // p_memsz
                    h.putLong(0);                 // p_align
                }
                h.flip();
                writeFully(h, 0);
            }
            default -> { }
        }
    }

    @Override
    public void page(String block, long offset, byte[] page, long streamOffset) throws IOException {
        long base = layout.base(block);
        if (base < 0) return;
        offset += base;
        place(offset, page, page.length);
        written.set(pageIndex(offset, page.length));
    }

    @Override
    public void zero(String block, long offset, int fill, long streamOffset) throws IOException {
        long base = layout.base(block);
        if (base < 0) return;
        offset += base;
        int index = pageIndex(offset, pageSize);
        if (fill == 0 && !written.get(index)) return; // a hole reads as zeros
        if (filled == null || filled.length != pageSize || filled[0] != (byte) fill) {
            filled = new byte[pageSize];
            java.util.Arrays.fill(filled, (byte) fill);
        }
        place(offset, filled, pageSize);
        if (fill == 0) written.clear(index); else written.set(index);
    }

    private static int pageIndex(long offset, int pageSize) { return (int) (offset / pageSize); }

    /** Writes the block bytes [offset, offset+n) wherever the ranges put them. */
    private void place(long offset, byte[] data, int n) throws IOException {
        List<RamRange> ranges = layout.ranges();
        for (int i = 0; i < ranges.size(); i++) {
            RamRange r = ranges.get(i);
            long from = Math.max(offset, r.blockOffset());
            long to = Math.min(offset + n, r.blockEnd());
            if (from >= to) continue;
            writeFully(ByteBuffer.wrap(data, (int) (from - offset), (int) (to - from)), fileBase[i] + (from - r.blockOffset()));
        }
    }

    private void writeFully(ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) position += out.write(b, position);
    }

    /** Extends the file to its full size: the tail of zero pages stays a hole. */
    private void finish() throws IOException {
        if (out.size() < fileSize) writeFully(ByteBuffer.wrap(new byte[1]), fileSize - 1);
    }
}
