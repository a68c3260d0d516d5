package dev.qcow2.check;

import java.util.List;
import java.util.Optional;

/**
 * The result of {@link ImageChecker#check}: qemu-img's ImageCheck counters plus the findings.
 *
 * @param failure          set when the check could not complete (qemu-img: "Check failed: REASON",
 *                         exit 1, no report printed); the reason is the C library's strerror text
 * @param totalClusters    guest clusters: ceil(virtual size / cluster size)
 * @param allocatedClusters active-L1 entries that are normal, preallocated-zero or compressed
 * @param fragmentedClusters entries whose host offset is not the previous one + one cluster
 *                         (restarting in each L2 table); every compressed cluster counts
 * @param imageEndOffset   (highest cluster with a nonzero on-disk or computed refcount + 1) * cluster size
 * @param findings         the problems, in the order qemu-img reports them; at most
 *                         {@link ImageChecker#MAX_KEPT_FINDINGS} are kept
 * @param findingsOmitted  findings counted but not kept
 */
public record CheckReport(
        Optional<String> failure,
        long checkErrors,
        long corruptions,
        long leaks,
        long totalClusters,
        long allocatedClusters,
        long fragmentedClusters,
        long compressedClusters,
        long imageEndOffset,
        List<Finding> findings,
        long findingsOmitted) {

    public boolean completed() { return failure.isEmpty(); }

    /** qemu-img check's exit status: 1 incomplete, 2 corruptions, 3 leaks only, 0 clean. */
    public int exitCode() {
        if (failure.isPresent() || checkErrors > 0) return 1;
        if (corruptions > 0) return 2;
        if (leaks > 0) return 3;
        return 0;
    }

    public boolean clean() { return exitCode() == 0; }
}
