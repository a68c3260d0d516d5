package dev.qcow2.chain;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.HeaderExtensionEncoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites the first cluster with a new backing file name and format, as QEMU 7.2's
 * qcow2_change_backing_file → qcow2_update_header: the fixed header (v2: 72 bytes; v3: 112,
 * plus any longer header's unknown fields), then the extensions in QEMU's order — backing
 * format, external data file, crypto header, feature-name table (v3, clusters over 4 KiB),
 * bitmaps, unknown ones as found — the end marker and the name. Every other field keeps its
 * on-disk value. The cluster is written in one write and flushed, so a crash leaves either the
 * old or the new header.
 */
public final class BackingHeader {
    static final int MAX_NAME = 1023;

    private BackingHeader() { }

    /** One extension as stored: type and unpadded data. */
    record Extension(int type, byte[] data) { }

    /**
     * Writes the new header over cluster 0 of {@code storage} after flushing everything before it.
     *
     * @param name   the backing file name to record as given, or null to remove the backing file
     * @param format the backing format for the format extension, or null for none
     */
    public static void write(SyncedStorage storage, String name, String format) throws IOException {
        int clusterBits = ByteBuffer.wrap(storage.read(20, 4)).getInt();
        byte[] current = storage.read(0, 1 << clusterBits);
        byte[] updated = encode(storage.describe(), current, name, format);
        storage.flush();
        storage.write(0, updated);
        storage.flush();
    }

    /** The new cluster 0 for {@code current} (the whole old cluster 0); throws with qemu-img's reason when it does not fit. */
    static byte[] encode(String resource, byte[] current, String name, String format) throws Qcow2Exception {
        String target = name == null ? "" : name;
        byte[] nameBytes = name == null ? null : name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes != null && nameBytes.length > MAX_NAME) throw cannotChange(resource, target, "Invalid argument");
        ByteBuffer in = ByteBuffer.wrap(current);
        int version = in.getInt(4);
        int oldLength = version >= 3 ? in.getInt(100) : 72;
        int fixed = version >= 3 ? 112 : 72;
        int unknownFields = Math.max(0, oldLength - fixed);
        ByteBuffer out = ByteBuffer.allocate(current.length);
        out.put(current, 0, Math.min(oldLength, fixed));
        out.putLong(8, 0).putInt(16, 0);                       // backing_file_offset, backing_file_size
        if (version >= 3) {
            out.putInt(100, fixed + unknownFields);
            out.position(fixed);
            out.put(current, fixed, unknownFields);
        }
        out.position(fixed + unknownFields);
        List<Extension> old = read(current, oldLength);
        try {
            if (name != null && format != null) put(out, HeaderExtension.BACKING_FORMAT, format.getBytes(StandardCharsets.UTF_8));
            for (int type : new int[]{HeaderExtension.EXTERNAL_DATA_FILE, HeaderExtension.CRYPTO_HEADER}) {
                for (Extension e : old) if (e.type() == type) put(out, e.type(), e.data());
            }
            if (HeaderExtensionEncoder.writesFeatureNameTable(version, current.length)) {
                put(out, HeaderExtension.FEATURE_NAME_TABLE, HeaderExtensionEncoder.qemuFeatureNameTable());
            }
            for (Extension e : old) if (e.type() == HeaderExtension.BITMAPS) put(out, e.type(), e.data());
            for (Extension e : old) if (!known(e.type())) put(out, e.type(), e.data());
        } catch (IllegalStateException full) {
            throw cannotChange(resource, target, "No space left in the file header");
        }
        HeaderExtensionEncoder.putEndMarker(out);
        if (nameBytes != null) {
            if (out.remaining() < nameBytes.length) throw cannotChange(resource, target, "No space left in the file header");
            out.putLong(8, out.position()).putInt(16, nameBytes.length);
            out.put(nameBytes);
        }
        return out.array();
    }

    private static Qcow2Exception cannotChange(String resource, String target, String why) {
        return new Qcow2Exception(resource, "Could not change the backing file to '" + target + "': " + why);
    }

    private static boolean known(int type) {
        return type == HeaderExtension.BACKING_FORMAT || type == HeaderExtension.EXTERNAL_DATA_FILE
                || type == HeaderExtension.CRYPTO_HEADER || type == HeaderExtension.FEATURE_NAME_TABLE
                || type == HeaderExtension.BITMAPS;
    }

    /** The extensions of cluster 0, from the end of the header to the end marker (qcow2.rst "Header extensions"). */
    static List<Extension> read(byte[] cluster, int start) {
        List<Extension> list = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(cluster);
        int pos = start;
        while (pos + 8 <= cluster.length) {
            int type = b.getInt(pos);
            int len = b.getInt(pos + 4);
            if (type == 0 || len < 0 || pos + 8L + len > cluster.length) break;
            byte[] data = new byte[len];
            b.get(pos + 8, data);
            list.add(new Extension(type, data));
            pos += 8 + ((len + 7) & ~7);
        }
        return list;
    }

    /** QEMU's header_ext_add: no room for the extension and the end marker is ENOSPC. */
    private static void put(ByteBuffer out, int type, byte[] data) {
        if (!HeaderExtensionEncoder.put(out, type, data)) throw new IllegalStateException("header full");
    }
}
