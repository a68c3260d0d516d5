package dev.qcow2.vmstate;

import dev.qcow2.vmstate.VmStateSummary.CpuState;
import dev.qcow2.vmstate.VmStateSummary.RamBlock;
import dev.qcow2.vmstate.VmStateSummary.Section;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a QEMU 7.2 migration stream as {@code savevm} writes it (migration/savevm.c
 * qemu_savevm_state / qemu_loadvm_state_main; migration/ram.c ram_save_setup / ram_load_precopy),
 * handing every RAM page to a {@link RamSink} as it passes: memory stays bounded by one page.
 *
 * <p>Layout: magic {@code QEVM}, version 3; the configuration section (0x07: be32 length, the
 * machine type, optional subsections, no footer); the {@code ram} section: START (0x01) with the
 * block list under {@code MEM_SIZE}, PART (0x02) / END (0x03) with pages, each body ending in
 * {@code EOS}; every section followed by a footer (0x7e, be32 section id) when the machine type
 * sends footers; one FULL (0x04) section per device, walked with the {@link VmDescription}; EOF
 * (0x00); the description.
 */
public final class MigrationStream {
    static final long MAGIC = 0x5145564dL;  // "QEVM"
    static final long VERSION = 3;
    static final int EOF = 0x00, SECTION_START = 0x01, SECTION_PART = 0x02, SECTION_END = 0x03,
            SECTION_FULL = 0x04, SUBSECTION = 0x05, VMDESCRIPTION = 0x06, CONFIGURATION = 0x07, COMMAND = 0x08,
            SECTION_FOOTER = 0x7e;

    // migration/ram.c RAM_SAVE_FLAG_*: the low bits of a page's be64 address word
    static final int FLAG_FULL = 0x01, FLAG_ZERO = 0x02, FLAG_MEM_SIZE = 0x04, FLAG_PAGE = 0x08, FLAG_EOS = 0x10,
            FLAG_CONTINUE = 0x20, FLAG_XBZRLE = 0x40, FLAG_HOOK = 0x80, FLAG_COMPRESS_PAGE = 0x100;

    /** The largest RAM block list accepted (QEMU has a handful of blocks per machine). */
    static final int MAX_BLOCKS = 4096;

    /** Where decoded pages go. Pages of a block arrive in any order; a later one replaces an earlier one. */
    public interface RamSink {
        /** The block list (name to used length, stream order), the machine type and the page size, before any page. */
        default void blockList(Map<String, Long> blocks, String machineType, int pageSize, long streamOffset) throws IOException { }

        /** A page sent with its bytes ({@code page} is reused after the call). */
        void page(String block, long offset, byte[] page, long streamOffset) throws IOException;

        /** A page of {@code fill} bytes (0 in every stream QEMU 7.2 writes). */
        void zero(String block, long offset, int fill, long streamOffset) throws IOException;
    }

    /** A sink that ignores pages (the summary alone). */
    public static final RamSink COUNT_ONLY = new RamSink() {
        @Override public void page(String block, long offset, byte[] page, long streamOffset) { }
        @Override public void zero(String block, long offset, int fill, long streamOffset) { }
    };

    /** vmstate_x86_cpu's fields read for the summary: 7.2 names the control registers one by one ("env.cr[3]"). */
    private static final Set<String> CPU_FIELDS = Set.of("env.regs", "env.eip", "env.cr", "env.cr[0]", "env.cr[3]", "env.cr[4]");

    private final VmStateBytes bytes;
    private final StreamCursor in;
    private final RamSink sink;
    private final Optional<VmDescription> description;
    private int pageSize;
    /** The one page buffer of every RAM body (a stream may hold thousands of PART sections of 16 MiB pages). */
    private byte[] page;

    private String machineType;
    private boolean ignoreShared;
    private final Map<String, long[]> blocks = new LinkedHashMap<>(); // name -> {usedLength, dataPages, zeroPages}
    private final List<Section> sections = new ArrayList<>();
    private final List<CpuState> cpus = new ArrayList<>();
    private String incomplete;
    private long ramSectionId = -1;
    private String lastBlock;
    private int nextDevice;

    private MigrationStream(VmStateBytes bytes, RamSink sink) throws IOException {
        this.bytes = bytes;
        this.in = bytes.cursor();
        this.sink = sink;
        this.description = VmDescription.find(bytes);
        this.pageSize = description.map(VmDescription::pageSize).orElse(4096);
    }

    /** Reads the whole stream, sending its pages to {@code sink}; fails at the first thing it cannot decode in the RAM part. */
    public static VmStateSummary read(VmStateBytes bytes, RamSink sink) throws IOException {
        MigrationStream s = new MigrationStream(bytes, sink);
        s.readAll();
        List<RamBlock> ram = new ArrayList<>();
        s.blocks.forEach((name, c) -> ram.add(new RamBlock(name, c[0], c[1], c[2])));
        return new VmStateSummary(s.machineType, s.pageSize, bytes.size(), List.copyOf(ram), List.copyOf(s.sections),
                List.copyOf(s.cpus), s.incomplete);
    }

    private void readAll() throws IOException {
        if (bytes.size() < 8) throw in.error(0, "stream of " + bytes.size() + " bytes is too short for a QEMU migration stream");
        long magic = in.be32();
        if (magic != MAGIC) throw in.error(0, String.format("not a QEMU migration stream (magic 0x%08x, expected 0x%08x 'QEVM')", magic, MAGIC));
        long version = in.be32();
        if (version != VERSION) throw in.error(4, "migration stream version " + version + " (only version 3 is decoded)");
        while (true) {
            long at = in.position();
            if (in.remaining() == 0) throw in.error(at, "stream truncated: no QEMU_VM_EOF");
            int type = in.u8();
            switch (type) {
                case EOF -> { return; }
                case CONFIGURATION -> configuration();
                case SECTION_START, SECTION_FULL -> {
                    long id = in.be32();
                    String name = in.countedString();
                    long instance = in.be32();
                    long version2 = in.be32();
                    sections.add(new Section(id, name, instance, version2, type == SECTION_START ? "iterable" : "full"));
                    if (name.equals("ram") && type == SECTION_START) {
                        if (version2 != 4) throw in.error(at, "ram section version " + version2 + " (only version 4 is decoded)");
                        if (ramSectionId >= 0) throw in.error(at, "a second ram section");
                        ramSectionId = id;
                        ramBody();
                        footer(id);
                    } else if (type == SECTION_FULL) {
                        if (!device(at, id, name, instance)) return;
                    } else {
                        throw in.error(at, "iterable section '" + name + "' is not decoded (only ram is)");
                    }
                }
                case SECTION_PART, SECTION_END -> {
                    long id = in.be32();
                    if (id != ramSectionId) {
                        throw in.error(at, "section part for section id " + id + ", which is not the ram section");
                    }
                    ramBody();
                    footer(id);
                }
                case COMMAND -> throw in.error(at, "QEMU_VM_COMMAND (postcopy or return-path migration) is not decoded");
                case VMDESCRIPTION -> throw in.error(at, "VMDESCRIPTION before QEMU_VM_EOF");
                default -> throw in.error(at, String.format("unknown section type 0x%02x", type));
            }
        }
    }

    /** The section footer, when the stream has footers (every section but the configuration in 7.2). */
    private void footer(long id) throws IOException {
        if (in.peek() != SECTION_FOOTER) return;
        long at = in.position();
        in.u8();
        long got = in.be32();
        if (got != id) throw in.error(at, "section footer for section id " + got + " after section " + id);
    }

    /** vmstate_configuration: be32 len, the machine type, then the subsections 7.2 knows. */
    private void configuration() throws IOException {
        long at = in.position();
        long len = in.be32();
        if (len > 256) throw in.error(at, "configuration section with a machine type of " + len + " bytes");
        byte[] name = new byte[(int) len];
        in.read(name, 0, name.length);
        machineType = new String(name, java.nio.charset.StandardCharsets.UTF_8);
        while (in.peek() == SUBSECTION) {
            long subAt = in.position();
            in.u8();
            String sub = in.countedString();
            in.be32(); // version
            switch (sub) {
                case "configuration/target-page-bits" -> {
                    long bits = in.be32();
                    if (bits < 9 || bits > 24) throw in.error(subAt, "target page bits " + bits);
                    pageSize = 1 << bits;
                }
                case "configuration/capabilities" -> {
                    long count = in.be32();
                    if (count > 256) throw in.error(subAt, count + " migration capabilities");
                    for (long i = 0; i < count; i++) {
                        String cap = in.countedString();
                        if (cap.equals("x-ignore-shared")) ignoreShared = true;
                    }
                }
                case "configuration/uuid" -> in.skip(16);
                default -> throw in.error(subAt, "unknown configuration subsection '" + sub + "'");
            }
        }
    }

    /** One body of the ram section, up to and including its EOS (ram_load_precopy). */
    private void ramBody() throws IOException {
        if (page == null || page.length != pageSize) page = new byte[pageSize];
        long mask = pageSize - 1;
        while (true) {
            long at = in.position();
            long word = in.be64();
            int flags = (int) (word & mask);
            long addr = word & ~mask;
            if ((flags & (FLAG_ZERO | FLAG_PAGE | FLAG_COMPRESS_PAGE | FLAG_XBZRLE)) != 0) {
                String block = blockFromStream(at, flags);
                long used = blocks.get(block)[0];
                // addr is the high bits of a be64: unsigned, so a set top bit is past every block, not before it
                if (addr < 0 || addr >= used || pageSize > used - addr) {
                    throw in.error(at, String.format("page at 0x%x past the end of RAM block '%s' (0x%x bytes)", addr, block, used));
                }
                switch (flags & ~FLAG_CONTINUE) {
                    case FLAG_ZERO -> {
                        int fill = in.u8();
                        blocks.get(block)[2]++;
                        sink.zero(block, addr, fill, at);
                    }
                    case FLAG_PAGE -> {
                        long dataAt = in.position();
                        in.read(page, 0, pageSize);
                        blocks.get(block)[1]++;
                        sink.page(block, addr, page, dataAt);
                    }
                    case FLAG_COMPRESS_PAGE -> throw in.error(at, "compressed page (migration capability 'compress') is not decoded");
                    case FLAG_XBZRLE -> throw in.error(at, "XBZRLE page (migration capability 'xbzrle') is not decoded");
                    default -> throw in.error(at, String.format("unknown combination of RAM page flags 0x%x", flags));
                }
                continue;
            }
            switch (flags) {
                case FLAG_MEM_SIZE -> blockList(at, addr);
                case FLAG_EOS -> { return; }
                case FLAG_HOOK -> throw in.error(at, "RAM hook (RDMA migration) is not decoded");
                default -> throw in.error(at, String.format("unknown RAM page flags 0x%x", flags));
            }
        }
    }

    /** ram_block_from_stream: the block named here, or the previous page's with CONTINUE (also across sections). */
    private String blockFromStream(long at, int flags) throws IOException {
        if ((flags & FLAG_CONTINUE) != 0) {
            if (lastBlock == null) throw in.error(at, "CONTINUE page with no block before it");
            return lastBlock;
        }
        String name = in.countedString();
        if (!blocks.containsKey(name)) throw in.error(at, "page of RAM block '" + name + "', which the block list does not name");
        lastBlock = name;
        return name;
    }

    /** MEM_SIZE: the block list, whose used lengths add up to the total in the address bits. */
    private void blockList(long at, long total) throws IOException {
        long left = total;
        while (left > 0) {
            long blockAt = in.position();
            if (blocks.size() >= MAX_BLOCKS) throw in.error(blockAt, "more than " + MAX_BLOCKS + " RAM blocks");
            String name = in.countedString();
            long used = in.be64();
            if (name.isEmpty()) throw in.error(blockAt, "RAM block without a name");
            if (blocks.containsKey(name)) throw in.error(blockAt, "RAM block '" + name + "' listed twice");
            if (used <= 0 || used > left) {
                throw in.error(blockAt, String.format("RAM block list does not add up: block '%s' of 0x%x bytes with 0x%x of the total 0x%x left",
                        name, used, left, total));
            }
            if (ignoreShared) in.be64(); // the block's guest address (x-ignore-shared)
            blocks.put(name, new long[]{used, 0, 0});
            left -= used;
        }
        Map<String, Long> lengths = new LinkedHashMap<>();
        blocks.forEach((n, c) -> lengths.put(n, c[0]));
        sink.blockList(lengths, machineType, pageSize, at);
    }

    /**
     * A device section, walked with its description entry. Returns false (and records why in
     * {@code incomplete}) when it cannot be walked: the rest of the stream is then not read.
     */
    private boolean device(long at, long id, String name, long instance) throws IOException {
        if (description.isEmpty()) {
            incomplete = String.format("stream offset 0x%x: device section '%s' cannot be walked: the stream has no VMDESCRIPTION", at, name);
            return false;
        }
        List<VmDescription.Device> devices = description.get().devices();
        if (nextDevice >= devices.size()
                || !devices.get(nextDevice).name().equals(name) || devices.get(nextDevice).instanceId() != instance) {
            incomplete = String.format("stream offset 0x%x: device section '%s' (instance %d) is not the next one the VMDESCRIPTION describes", at, name, instance);
            return false;
        }
        VmDescription.Device d = devices.get(nextDevice++);
        Map<String, ByteArrayOutputStream> captured = name.equals("cpu") ? new LinkedHashMap<>() : null;
        try {
            walk(d, captured);
            long footerAt = in.position();
            if (in.peek() == SECTION_FOOTER) {
                in.u8();
                long got = in.be32();
                if (got != id) {
                    incomplete = String.format("stream offset 0x%x: device section '%s' did not end where its description says (footer of section %d)",
                            footerAt, name, got);
                    return false;
                }
            }
        } catch (WalkFailed | VmStateException e) {
            incomplete = e.getMessage().substring(e.getMessage().indexOf("stream offset") >= 0 ? e.getMessage().indexOf("stream offset") : 0);
            return false;
        }
        if (captured != null) cpus.add(cpu(instance, captured));
        return true;
    }

    private static final class WalkFailed extends IOException {
        WalkFailed(String message) { super(message); }
    }

    /** The fields of one (sub)section by their recorded sizes, then its subsections (vmstate_subsection_load). */
    private void walk(VmDescription.Device d, Map<String, ByteArrayOutputStream> capture) throws IOException {
        for (VmDescription.Field f : d.fields()) {
            long n = f.bytes();
            if (capture != null && CPU_FIELDS.contains(f.name()) && n <= 1024) {
                byte[] b = new byte[(int) n];
                in.read(b, 0, b.length);
                capture.computeIfAbsent(f.name(), k -> new ByteArrayOutputStream()).write(b, 0, b.length);
                capture.computeIfAbsent(f.name() + "#size", k -> new ByteArrayOutputStream()).write((int) f.size());
            } else {
                in.skip(n);
            }
        }
        for (VmDescription.Device sub : d.subsections()) {
            long at = in.position();
            if (in.u8() != SUBSECTION) {
                throw new WalkFailed(String.format("stream offset 0x%x: subsection '%s' of device '%s' not found where its description puts it",
                        at, sub.vmsdName(), d.name()));
            }
            String name = in.countedString();
            in.be32();
            if (!name.equals(sub.vmsdName())) {
                throw new WalkFailed(String.format("stream offset 0x%x: subsection '%s' where the description has '%s'", at, name, sub.vmsdName()));
            }
            walk(sub, null);
        }
    }

    private static CpuState cpu(long instance, Map<String, ByteArrayOutputStream> captured) {
        return new CpuState(instance, controlRegister(captured, 0), controlRegister(captured, 3),
                controlRegister(captured, 4), element(captured, "env.eip", 0), element(captured, "env.regs", 4));
    }

    /** CR{@code n}: a field "env.cr[n]", or element n of an array field "env.cr" (older descriptions). */
    private static Long controlRegister(Map<String, ByteArrayOutputStream> captured, int n) {
        Long single = element(captured, "env.cr[" + n + "]", 0);
        return single != null ? single : element(captured, "env.cr", n);
    }

    /** Element {@code index} of a captured big-endian array field, or null when absent. */
    private static Long element(Map<String, ByteArrayOutputStream> captured, String field, int index) {
        ByteArrayOutputStream data = captured.get(field);
        ByteArrayOutputStream size = captured.get(field + "#size");
        if (data == null || size == null) return null;
        int s = size.toByteArray()[0];
        byte[] b = data.toByteArray();
        if (s <= 0 || s > 8 || (long) (index + 1) * s > b.length) return null;
        long v = 0;
        for (int i = 0; i < s; i++) v = (v << 8) | (b[index * s + i] & 0xff);
        return v;
    }
}
