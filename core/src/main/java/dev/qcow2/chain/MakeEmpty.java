package dev.qcow2.chain;

import dev.qcow2.resize.TailTrim;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.ResizeHooks;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.file.Path;

/**
 * QEMU's qcow2_make_empty, which qemu-img commit calls on the top image: afterwards no cluster
 * is allocated, so the backing file shows through everywhere. For a v3 image without
 * snapshots or bitmaps (QEMU's make_completely_empty case) every L1 entry is cleared (flushed
 * first), the tables and data they reached are released, and the file is cut after its last
 * used cluster — for an image laid out as qemu-img creates it, header, refcount table, refcount
 * block and L1 remain, as in QEMU. Otherwise every cluster is discarded for good (QEMU's
 * fallback, full_discard), keeping the L2 tables. Both orders leave at worst leaked clusters.
 */
final class MakeEmpty {
    private MakeEmpty() { }

    static void empty(Path image) throws IOException { empty(image, WriteOptions.defaults()); }

    static void empty(Path image, WriteOptions options) throws IOException {
        try (Qcow2Writer w = Qcow2Writer.open(image, options)) {
            ResizeHooks hooks = w.resizeHooks();
            hooks.beforeChange();
            boolean completely = w.header().version() >= 3 && w.header().nbSnapshots() == 0
                    && w.header().extension(dev.qcow2.format.HeaderExtension.Bitmaps.class).isEmpty()
                    // QEMU keeps a LUKS image's header area: only the fallback (s->crypt_method_header != QCOW_CRYPT_LUKS)
                    && w.header().cryptMethod() != dev.qcow2.format.Qcow2Header.CRYPT_LUKS;
            if (completely) {
                hooks.shrinkL1(0);
                hooks.storage().flush();
                TailTrim.trim(hooks);
            } else {
                hooks.discardFully(0, w.size());
            }
        }
    }
}
