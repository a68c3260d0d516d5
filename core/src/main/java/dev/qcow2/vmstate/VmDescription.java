package dev.qcow2.vmstate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VMDESCRIPTION JSON that ends a savevm stream (QEMU 7.2 migration/savevm.c
 * qemu_savevm_state_complete_precopy_non_iterable: {@code QEMU_VM_EOF}, then
 * {@code QEMU_VM_VMDESCRIPTION} 0x06, a be32 length and the JSON): one entry per device section
 * in stream order, each field with the bytes it wrote (vmsd_desc_field_end's {@code size}, per
 * element; {@code array_len} for arrays written as one entry). It is the only way to walk the
 * device sections, whose encoding is otherwise known only to the device's code.
 *
 * @param pageSize     the target page size the RAM section's addresses use
 * @param streamOffset where the 0x06 byte is
 */
public record VmDescription(int pageSize, List<Device> devices, long streamOffset) {

    /** The largest tail searched for the description (analyze-migration.py reads 10 MiB). */
    static final int MAX_TAIL = 16 << 20;

    /** A device section (or a subsection): its fields in stream order, then its subsections in stream order. */
    public record Device(String name, long instanceId, String vmsdName, long version, List<Field> fields, List<Device> subsections) { }

    /** A field: {@code count} elements of {@code size} stream bytes each. */
    public record Field(String name, String type, long size, long count) {
        long bytes() { return size * count; }
    }

    /**
     * The description at the end of the stream: the last 0x06 byte whose be32 length reaches
     * exactly to the end and is followed by '{'. Empty when the stream has none.
     */
    static Optional<VmDescription> find(VmStateBytes bytes) throws IOException {
        long size = bytes.size();
        int tail = (int) Math.min(size, MAX_TAIL);
        if (tail < 6) return Optional.empty();
        byte[] buf = new byte[tail];
        long base = size - tail;
        bytes.read(base, buf, 0, tail);
        for (int p = tail - 6; p >= 0; p--) {
            if (buf[p] != 0x06 || buf[p + 5] != '{') continue;
            long len = ((buf[p + 1] & 0xffL) << 24) | ((buf[p + 2] & 0xff) << 16) | ((buf[p + 3] & 0xff) << 8) | (buf[p + 4] & 0xff);
            if (len != tail - p - 5) continue;
            String text = new String(buf, p + 5, (int) len, StandardCharsets.UTF_8);
            try {
                return Optional.of(of(Json.parse(text), base + p));
            } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
                throw bytes.error(base + p, "VMDESCRIPTION is not the JSON QEMU writes ("
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
            }
        }
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    static VmDescription of(Object json, long streamOffset) {
        Map<String, Object> root = (Map<String, Object>) json;
        long pageSize = root.get("page_size") instanceof Long l ? l : 4096;
        if (pageSize < 512 || pageSize > (1 << 24) || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page_size " + pageSize + " is not a power of two between 512 and 16 MiB");
        }
        List<Device> devices = new ArrayList<>();
        for (Object d : (List<Object>) root.getOrDefault("devices", List.of())) devices.add(device((Map<String, Object>) d));
        return new VmDescription((int) pageSize, List.copyOf(devices), streamOffset);
    }

    @SuppressWarnings("unchecked")
    private static Device device(Map<String, Object> d) {
        List<Field> fields = new ArrayList<>();
        for (Object f : (List<Object>) d.getOrDefault("fields", List.of())) {
            Map<String, Object> m = (Map<String, Object>) f;
            long size = (Long) m.get("size");
            long count = m.get("array_len") instanceof Long l ? l : 1;
            if (size < 0 || count < 0 || (count > 0 && size > Long.MAX_VALUE / count)) {
                throw new IllegalArgumentException("field " + m.get("name") + " has size " + size + " x " + count);
            }
            fields.add(new Field(String.valueOf(m.get("name")), String.valueOf(m.get("type")), size, count));
        }
        List<Device> subsections = new ArrayList<>();
        for (Object s : (List<Object>) d.getOrDefault("subsections", List.of())) subsections.add(device((Map<String, Object>) s));
        long instance = d.get("instance_id") instanceof Long l ? l : 0;
        long version = d.get("version") instanceof Long l ? l : 0;
        String name = d.get("name") == null ? String.valueOf(d.get("vmsd_name")) : d.get("name").toString();
        return new Device(name, instance, String.valueOf(d.get("vmsd_name")), version, List.copyOf(fields), List.copyOf(subsections));
    }
}
