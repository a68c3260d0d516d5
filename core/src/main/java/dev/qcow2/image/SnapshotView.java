package dev.qcow2.image;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.units.GuestOffset;

import java.io.IOException;
import java.util.Optional;

/** The disk as an internal snapshot recorded it: read-only, sharing the image's caches and backing. */
public final class SnapshotView implements BlockDevice {
    private final Qcow2Image image;
    private final SnapshotEntry snapshot;
    private final LayerReader reader;

    SnapshotView(Qcow2Image image, SnapshotEntry snapshot, LayerReader reader) {
        this.image = image;
        this.snapshot = snapshot;
        this.reader = reader;
    }

    public SnapshotEntry snapshot() { return snapshot; }

    public Qcow2Image image() { return image; }

    @Override public String describe() { return image.describe() + "@" + snapshot.name(); }

    @Override public long size() { return reader.mapper().virtualSize(); }

    @Override
    public void read(GuestOffset guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        reader.read(guestOffset, buf, bufOffset, length);
    }

    @Override
    public BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) throws IOException {
        return reader.blockStatus(guestOffset, maxLength);
    }

    @Override public Optional<BlockDevice> backing() { return reader.backing(); }

    @Override public String format() { return "qcow2"; }

    /** Closing a view does not close the image. */
    @Override public void close() { }
}
