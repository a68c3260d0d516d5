package dev.qcow2.model

import dev.qcow2.snapshot.Snapshots
import dev.qcow2.storage.WritableFileStorage
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import dev.qcow2.image.FollowPolicy

import java.nio.file.Path

/**
 * The image opened by at most one of our APIs at a time. Qcow2Writer and Snapshots each lock
 * the file and cache metadata (L1, refcounts, header), so one is closed before the other opens;
 * {@link #close} before qemu-img touches the image. Flushes do not fsync ({@link NoSyncStorage}).
 */
class ImageSession implements Closeable {
    final Path image
    private Qcow2Writer writer
    private Snapshots snapshots

    ImageSession(Path image) { this.image = image }

    Qcow2Writer writer() {
        if (writer == null) {
            close()
            writer = Qcow2Writer.open(new NoSyncStorage(WritableFileStorage.open(image)), image, WriteOptions.defaults().withFollow(FollowPolicy.any()))  // bases live in the spec's template directory
        }
        writer
    }

    Snapshots snapshots() {
        if (snapshots == null) {
            close()
            snapshots = Snapshots.open(new NoSyncStorage(WritableFileStorage.open(image)))
        }
        snapshots
    }

    @Override
    void close() {
        try {
            writer?.close()
        } finally {
            writer = null
            try {
                snapshots?.close()
            } finally {
                snapshots = null
            }
        }
    }
}
