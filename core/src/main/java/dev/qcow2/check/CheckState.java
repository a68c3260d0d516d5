package dev.qcow2.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Counters and findings of one check run. Every finding goes to the listener as it is found
 * (the CLI prints it to stderr right away, as qemu-img does); only the first
 * {@link ImageChecker#MAX_KEPT_FINDINGS} are kept in memory.
 */
final class CheckState {
    private final Consumer<Finding> listener;
    private final List<Finding> kept = new ArrayList<>();
    long omitted;
    long checkErrors;
    long corruptions;
    long leaks;
    long totalClusters;
    long allocated;
    long fragmented;
    long compressed;
    long imageEndOffset;
    ReferenceCounts references;

    CheckState(Consumer<Finding> listener) { this.listener = listener; }

    void report(Finding.Type type, String structure, long hostOffset, long cluster, String message) {
        Finding f = new Finding(type, structure, hostOffset, cluster, message);
        switch (type.counter()) {
            case CORRUPTION -> corruptions++;
            case LEAK -> leaks++;
            case CHECK_ERROR -> checkErrors++;
        }
        if (kept.size() < ImageChecker.MAX_KEPT_FINDINGS) kept.add(f); else omitted++;
        listener.accept(f);
    }

    CheckReport toReport(String failure) {
        return new CheckReport(Optional.ofNullable(failure), checkErrors, corruptions, leaks, totalClusters,
                allocated, fragmented, compressed, imageEndOffset, List.copyOf(kept), omitted);
    }

    /** The check cannot go on (QEMU returns -errno); {@code reason} is strerror's text. */
    static final class Aborted extends Exception {
        final String reason;

        Aborted(String reason) {
            super(reason, null, false, false);
            this.reason = reason;
        }
    }
}
