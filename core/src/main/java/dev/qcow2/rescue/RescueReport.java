package dev.qcow2.rescue;

import java.util.List;
import java.util.Map;

/**
 * What {@link Rescuer} found and did: the geometry it used (and whether it was read or
 * inferred), every metadata structure with its evidence, the guest clusters placed per
 * {@link Placement} (certain vs inferred), and the host clusters that held data but could not be
 * placed (left over: listed, up to {@link #LEFTOVER_LISTED}, never guessed).
 *
 * @param placed        guest clusters written to the output, per method (zero-flagged clusters counted under their method)
 * @param leftover      host clusters holding non-zero data, and compressed streams, that no evidence placed
 * @param leftoverHosts the first {@link #LEFTOVER_LISTED} of them (host byte offsets; a stream's first byte)
 */
public record RescueReport(String source, String output, int clusterSize, String clusterSizeEvidence, long virtualSize,
                           String virtualSizeEvidence, List<Structure> structures, Map<Placement, Long> placed,
                           long leftover, List<Long> leftoverHosts) {

    public static final int LEFTOVER_LISTED = 64;

    /**
     * One metadata structure: {@code status} is {@code intact} (used as is), {@code found}
     * (located by scanning), {@code lost} (the header names it but it no longer parses), or
     * {@code rebuilt} (written fresh in the output, e.g. refcounts).
     */
    public record Structure(String kind, long hostOffset, String status, String evidence) { }

    public long placedTotal() { return placed.values().stream().mapToLong(Long::longValue).sum(); }

    public long placedCertain() {
        return placed.entrySet().stream().filter(e -> e.getKey().certain()).mapToLong(Map.Entry::getValue).sum();
    }
}
