package dev.qcow2.cli;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.util.Optional;

/** qemu-img's {@code -l} snapshot parameter: an ID or name, or {@code snapshot.id=ID,snapshot.name=NAME}. */
final class SnapshotSpec {
    private SnapshotSpec() { }

    static BlockDevice open(BlockDevice image, String file, String spec) throws IOException {
        if (!(image instanceof Qcow2Image q)) {
            throw new Errors.CliException(file + ": Failed to load snapshot: raw images have no internal snapshots");
        }
        String id = null;
        String name = null;
        if (spec.startsWith("snapshot.id=") || spec.startsWith("snapshot.name=")) {
            for (String part : spec.split(",")) {
                if (part.startsWith("snapshot.id=")) id = part.substring("snapshot.id=".length());
                else if (part.startsWith("snapshot.name=")) name = part.substring("snapshot.name=".length());
                else throw new Errors.CliException("Invalid parameter '" + part + "'");
            }
        }
        Optional<SnapshotEntry> found;
        if (id == null && name == null) {
            found = q.findSnapshot(spec);
        } else {
            String wantId = id;
            String wantName = name;
            found = q.snapshots().stream()
                    .filter(s -> (wantId == null || s.id().equals(wantId)) && (wantName == null || s.name().equals(wantName)))
                    .findFirst();
        }
        SnapshotEntry s = found.orElseThrow(() -> new Errors.CliException(
                file + ": Failed to load snapshot: Can't find snapshot"));
        return q.snapshot(s);
    }
}
