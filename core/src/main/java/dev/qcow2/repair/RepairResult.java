package dev.qcow2.repair;

import dev.qcow2.check.CheckReport;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The outcome of {@link Repairer#repair}: qemu-img's {@code leaks-fixed} and
 * {@code corruptions-fixed}, the undo journal (empty when nothing was changed), and the report
 * of the second, read-only check. {@code failure} is set when the repair pass stopped (qemu-img:
 * "Check failed: REASON", exit 1, no report); {@code after} is then null.
 */
public record RepairResult(Optional<String> failure, long leaksFixed, long corruptionsFixed,
                           Optional<Path> journal, CheckReport after) {

    public boolean fixedAnything() { return leaksFixed != 0 || corruptionsFixed != 0; }

    /** qemu-img check -r's exit status: that of the second pass (1 if the repair pass failed). */
    public int exitCode() { return failure.isPresent() ? 1 : after.exitCode(); }
}
