package dev.qcow2.rescue;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * External data file: QEMU allocates a data-file cluster at the same offset as its guest cluster
 * (qcow2.rst "data_file_raw": the data file can be read as a raw image; QEMU keeps host offset =
 * guest offset whether or not the bit is set), so every non-zero data-file cluster no surviving
 * L2 entry placed goes to its own guest offset. Inferred (a table could have zeroed or discarded
 * the cluster since), and reported so.
 */
final class DataFilePlacement extends Evidence {
    DataFilePlacement(Evidence shared) { super(shared); }

    void placeByOffset() throws IOException {
        long clusters = (src.dataSize() + geo.clusterSize() - 1) >>> geo.clusterBits();
        if (header != null) clusters = Math.min(clusters, (header.size() + geo.clusterSize() - 1) >>> geo.clusterBits());
        ByteBuffer b = ByteBuffer.allocate(geo.clusterSize());
        long placed = 0, byTables = 0;
        for (long g = 0; g < clusters; g++) {
            if (map.placed(g)) { byTables++; continue; }
            long at = g << geo.clusterBits();
            HostScan.readCluster(src.data(), at, src.dataSize(), b);
            if (HostScan.allZero(b)) continue;
            map.place(g, at, allBitmap(), Placement.DATA_FILE_OFFSET);
            placed++;
        }
        structures.add(new RescueReport.Structure("data file clusters", -1, "found", placed
                + " non-zero data-file clusters no surviving L2 entry maps, placed at guest offset = data-file offset"
                + (src.dataRaw() ? " (data_file_raw: certain by the format)" : " (QEMU's allocation rule for data files: inferred)")
                + "; " + byTables + " guest clusters placed by tables"));
    }
}
