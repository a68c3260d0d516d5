package dev.qcow2.rescue;

/**
 * Consecutive unreferenced host clusters with one status and one provenance (zeros and unknown
 * data of the same look, or freed data clusters of consecutive guest offsets, are merged; every
 * table is its own run).
 *
 * @param file   the file name the run was written to in OUTDIR, null when not written (zeros, or
 *               an analysis without OUTDIR)
 * @param sha256 of the run's bytes as they are in the image
 */
public record CarvedRun(long hostOffset, long length, CarveStatus status, Provenance provenance, String sha256, String file) {

    /** The file name a run gets in OUTDIR: its host offset (16 hex digits, so names sort by offset) and kind. */
    public String fileName() { return String.format("%016x-%s.bin", hostOffset, provenance.kind()); }

    CarvedRun withFile(String name) { return new CarvedRun(hostOffset, length, status, provenance, sha256, name); }
}
