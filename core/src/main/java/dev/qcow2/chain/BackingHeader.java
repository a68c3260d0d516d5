package dev.qcow2.chain;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.QemuHeaderLayout;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.Qcow2HeaderEncoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Rewrites the first cluster with a new backing file name and format, as QEMU 7.2's
 * qcow2_change_backing_file → qcow2_update_header: the current header with the new name, laid
 * out by {@link QemuHeaderLayout} (the external data file, crypto header, bitmaps and unknown
 * extensions kept; QEMU's feature-name table) and encoded by the one header encoder,
 * {@link Qcow2HeaderEncoder}. Every other field keeps its value. The cluster is written in one
 * write and flushed, so a crash leaves either the old or the new header.
 */
public final class BackingHeader {
    static final int MAX_NAME = QemuHeaderLayout.MAX_BACKING_FILE_NAME;

    private BackingHeader() { }

    /**
     * Writes the new header over cluster 0 of {@code storage} after flushing everything before it.
     *
     * @param name   the backing file name to record as given, or null to remove the backing file
     * @param format the backing format for the format extension, or null for none
     */
    static void write(SyncedStorage storage, String name, String format) throws IOException {
        storage.flush();
        // Flushed: the file itself holds the current header, with what the writer changed in it.
        Qcow2Header current = Qcow2Header.read(storage.raw());
        byte[] updated = encode(storage.describe(), current, name, format);
        storage.write(0, updated);
        storage.flush();
    }

    /** The new cluster 0 for {@code current}; throws with qemu-img's reason when it does not fit. */
    static byte[] encode(String resource, Qcow2Header current, String name, String format) throws Qcow2Exception {
        String target = name == null ? "" : name;
        if (name != null && name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
            throw cannotChange(resource, target, "Invalid argument");
        }
        Qcow2Header fields = current.toBuilder().backingFileName(name).build();
        try {
            return Qcow2HeaderEncoder.encode(QemuHeaderLayout.layout(fields, name != null ? format : null,
                    current.externalDataFile().orElse(null)));
        } catch (QemuHeaderLayout.NoRoomException e) {
            throw cannotChange(resource, target, "No space left in the file header");
        }
    }

    private static Qcow2Exception cannotChange(String resource, String target, String why) {
        return new Qcow2Exception(resource, "Could not change the backing file to '" + target + "': " + why);
    }
}
