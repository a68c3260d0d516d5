package dev.qcow2.chain;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.image.BackingChain;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.BlockStatus;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The layers of an opened chain above a base: the top image and every intermediate image,
 * and for a guest range which of them decides its content — QEMU's bdrv_is_allocated_above
 * (block/io.c bdrv_co_common_block_status_above), including its rule that the zeros past the
 * end of a short intermediate layer count as allocated there.
 */
final class ChainLayers {
    enum Kind { DATA, ZERO, NONE }

    /** A range starting at the queried offset: decided by data, by zeros, or by nothing above the base. */
    record Span(long length, Kind kind) { }

    /**
     * @param base       the backing link of the deepest layer in {@code above}: the base image
     * @param basePath   where the base is
     * @param baseFormat its format, as recorded or probed ("qcow2" or "raw")
     */
    record Found(List<BlockDevice> above, BackingChain.Link base, Path basePath, String baseFormat) { }

    private final List<BlockDevice> above;

    ChainLayers(List<BlockDevice> above) { this.above = above; }

    /**
     * Finds the base as qemu-img commit does: the top's backing file, or with {@code baseName}
     * the image of the chain it names (bdrv_find_backing_image: resolved against each layer's
     * directory and compared as real paths).
     */
    static Found find(Qcow2Image top, String displayName, String baseName) throws IOException {
        List<BlockDevice> above = new ArrayList<>();
        Qcow2Image layer = top;
        while (true) {
            above.add(layer);
            BackingChain.Link link = layer.backingLink().orElse(null);
            if (link == null) break;
            if (baseName == null || matches(layer, baseName, link)) {
                return new Found(above, link, link.filePath(), link.device().format());
            }
            if (!(link.device() instanceof Qcow2Image next)) break;
            layer = next;
        }
        if (baseName == null) throw new Qcow2Exception(null, "Image does not have a backing file");
        throw new Qcow2Exception(null, "Did not find '" + baseName + "' in the backing chain of '" + displayName + "'");
    }

    private static boolean matches(Qcow2Image layer, String name, BackingChain.Link link) throws IOException {
        Path candidate = Path.of(BackingChain.pathCombine(layer.path() == null ? null : layer.path().toString(), name));
        Path backing = link.filePath();
        return Files.exists(candidate) && Files.exists(backing) && Files.isSameFile(candidate, backing);
    }

    /** What decides {@code [offset, offset+maxLength)} from its start on, for at most {@code maxLength} bytes. */
    Span decide(long offset, long maxLength) throws IOException {
        long len = maxLength;
        for (int d = 0; d < above.size(); d++) {
            BlockDevice dev = above.get(d);
            if (d > 0) {
                if (offset >= dev.size()) return new Span(len, Kind.ZERO);
                len = Math.min(len, dev.size() - offset);
            }
            BlockStatus st = dev.blockStatus(offset, len);
            if (st.length() <= 0) throw new Qcow2Exception(dev.describe(), "block status returned no progress at offset " + offset);
            if (st.allocated()) return new Span(Math.min(len, st.length()), st.data() ? Kind.DATA : Kind.ZERO);
            len = Math.min(len, st.length());
        }
        return new Span(len, Kind.NONE);
    }
}
