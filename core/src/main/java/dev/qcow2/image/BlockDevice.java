package dev.qcow2.image;

import dev.qcow2.units.GuestOffset;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A guest-visible disk: a qcow2 image (or one of its snapshots) or a raw file. Reads are
 * positional and safe for concurrent callers.
 */
public interface BlockDevice extends Closeable {

    String describe();

    /** Virtual size in bytes. */
    long size();

    /** Reads {@code length} guest bytes at {@code guestOffset} into {@code buf}; the range must lie inside the disk. */
    void read(long guestOffset, byte[] buf, int bufOffset, int length) throws IOException;

    /** Typed form of {@link #read(long, byte[], int, int)}: fills {@code buf} from {@code offset}. */
    default void read(GuestOffset offset, byte[] buf) throws IOException {
        read(offset.value(), buf, 0, buf.length);
    }

    default byte[] read(long guestOffset, int length) throws IOException {
        byte[] out = new byte[length];
        read(guestOffset, out, 0, length);
        return out;
    }

    default void read(long guestOffset, ByteBuffer dst) throws IOException {
        if (dst.hasArray()) {
            int n = dst.remaining();
            read(guestOffset, dst.array(), dst.arrayOffset() + dst.position(), n);
            dst.position(dst.position() + n);
        } else {
            dst.put(read(guestOffset, dst.remaining()));
        }
    }

    /** Allocation status of this layer alone, as QEMU's block-status for its driver. */
    BlockStatus blockStatus(long guestOffset, long maxLength) throws IOException;

    /** The next layer down, when this device reads unallocated ranges from one. */
    Optional<BlockDevice> backing();

    /** Format name as qemu-img prints it ("qcow2", "raw"). */
    String format();
}
