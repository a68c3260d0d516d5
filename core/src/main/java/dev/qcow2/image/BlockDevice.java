package dev.qcow2.image;

import dev.qcow2.units.GuestOffset;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A guest-visible disk: a qcow2 image (or one of its snapshots) or a raw file. Reads are
 * positional and safe for concurrent callers. Positions are {@link GuestOffset}s; the
 * {@code long} forms are for front ends (command line, DSL) that hold plain numbers, and
 * convert at this boundary.
 */
public interface BlockDevice extends Closeable {

    String describe();

    /** Virtual size in bytes. */
    long size();

    /** Reads {@code length} guest bytes at {@code guestOffset} into {@code buf}; the range must lie inside the disk. */
    void read(GuestOffset guestOffset, byte[] buf, int bufOffset, int length) throws IOException;

    /** Allocation status of this layer alone, as QEMU's block-status for its driver. */
    BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) throws IOException;

    /** Fills {@code buf} from {@code offset}. */
    default void read(GuestOffset offset, byte[] buf) throws IOException {
        read(offset, buf, 0, buf.length);
    }

    default byte[] read(GuestOffset guestOffset, int length) throws IOException {
        byte[] out = new byte[length];
        read(guestOffset, out, 0, length);
        return out;
    }

    /** Fills the remaining bytes of {@code dst} and moves its position past them. */
    default void read(GuestOffset guestOffset, ByteBuffer dst) throws IOException {
        if (dst.hasArray()) {
            int n = dst.remaining();
            read(guestOffset, dst.array(), dst.arrayOffset() + dst.position(), n);
            dst.position(dst.position() + n);
        } else {
            dst.put(read(guestOffset, dst.remaining()));
        }
    }

    /** Front ends' form of {@link #read(GuestOffset, byte[], int, int)}. */
    default void read(long guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        read(new GuestOffset(guestOffset), buf, bufOffset, length);
    }

    /** Front ends' form of {@link #read(GuestOffset, int)}. */
    default byte[] read(long guestOffset, int length) throws IOException {
        return read(new GuestOffset(guestOffset), length);
    }

    /** Front ends' form of {@link #read(GuestOffset, ByteBuffer)}. */
    default void read(long guestOffset, ByteBuffer dst) throws IOException {
        read(new GuestOffset(guestOffset), dst);
    }

    /** Front ends' form of {@link #blockStatus(GuestOffset, long)}. */
    default BlockStatus blockStatus(long guestOffset, long maxLength) throws IOException {
        return blockStatus(new GuestOffset(guestOffset), maxLength);
    }

    /** The next layer down, when this device reads unallocated ranges from one. */
    Optional<BlockDevice> backing();

    /** Format name as qemu-img prints it ("qcow2", "raw"). */
    String format();
}
