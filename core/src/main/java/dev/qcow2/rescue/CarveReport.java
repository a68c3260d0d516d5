package dev.qcow2.rescue;

import java.util.List;

/**
 * What {@link Carver} found: every unreferenced host cluster run with its provenance, and
 * {@code warnings} for parts of the metadata the walk could not read (clusters those parts
 * reference may then be listed although live).
 *
 * @param referencedClusters host clusters a live structure references (header, tables, data, refcounts, snapshots, bitmaps)
 * @param freeZeroClusters   free all-zero clusters: ordinary free space, counted, not listed
 */
public record CarveReport(String source, int clusterSize, long fileSize, long referencedClusters, long freeZeroClusters,
                          List<CarvedRun> runs, List<String> warnings, String outputDirectory) {

    public long carvedBytes() { return runs.stream().mapToLong(CarvedRun::length).sum(); }

    public long carvedClusters() { return carvedBytes() / clusterSize; }

    public long clusters(CarveStatus status) {
        return runs.stream().filter(r -> r.status() == status).mapToLong(CarvedRun::length).sum() / clusterSize;
    }
}
