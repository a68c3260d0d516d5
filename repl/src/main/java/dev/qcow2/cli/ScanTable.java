package dev.qcow2.cli;

import dev.qcow2.scan.ScanOptions;
import dev.qcow2.scan.ScanRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code qcow2 scan}'s human output: one row per record, columns padded to their widest cell, then a summary line. */
final class ScanTable {
    private ScanTable() { }

    static String render(List<ScanRecord> records, ScanOptions options) {
        List<String> header = new ArrayList<>(List.of("PATH", "FORMAT", "VIRTUAL", "SNAPSHOTS", "BACKING", "CHECK"));
        header.addAll(options.hashAlgorithms().stream().map(a -> a.toUpperCase(Locale.ROOT)).toList());
        header.add("ERROR");
        List<List<String>> rows = new ArrayList<>();
        rows.add(header);
        for (ScanRecord r : records) {
            List<String> row = new ArrayList<>();
            row.add(r.path());
            row.add(r.format() == null ? "-" : r.format());
            row.add(r.virtualSize() == null ? "-" : HumanSize.format(r.virtualSize()));
            row.add(r.snapshots() == null ? "-" : Integer.toString(r.snapshots().size()));
            row.add(backing(r));
            row.add(check(r));
            for (String a : options.hashAlgorithms()) row.add(r.hashes() == null ? "-" : r.hashes().getOrDefault(a, "-"));
            row.add(r.error() == null ? "" : r.error());
            rows.add(row);
        }
        int[] width = new int[header.size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) width[i] = Math.max(width[i], row.get(i).length());
        }
        StringBuilder s = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                if (i > 0) line.append("  ");
                line.append(row.get(i));
                if (i < row.size() - 1) line.append(" ".repeat(width[i] - row.get(i).length()));
            }
            s.append(line.toString().stripTrailing()).append('\n');
        }
        return s.toString();
    }

    private static String backing(ScanRecord r) {
        if (r.backing() == null || r.backing().isEmpty()) return "-";
        StringBuilder s = new StringBuilder();
        for (ScanRecord.Backing b : r.backing()) {
            if (!s.isEmpty()) s.append(" -> ");
            s.append(b.name());
            if (!b.resolved()) s.append(" (missing)");
        }
        return s.toString();
    }

    private static String check(ScanRecord r) {
        ScanRecord.Check c = r.check();
        if (c == null) return r.error() != null ? "failed" : "-";
        if (c.failure() != null) return "failed";
        List<String> parts = new ArrayList<>();
        if (c.checkErrors() > 0) parts.add(c.checkErrors() + " check errors");
        if (c.corruptions() > 0) parts.add(c.corruptions() + " corruptions");
        if (c.leaks() > 0) parts.add(c.leaks() + " leaks");
        return parts.isEmpty() ? "clean" : String.join(", ", parts);
    }

    /** {@code 12 images: 8 clean, 2 with leaks, 1 corrupt, 1 failed; 1 not qcow2 (3.21 s)}. */
    static String summary(List<ScanRecord> records, double seconds) {
        long qcow2 = 0, clean = 0, leaks = 0, corrupt = 0, failed = 0, raw = 0;
        for (ScanRecord r : records) {
            if ("raw".equals(r.format()) && r.error() == null) {
                raw++;
                continue;
            }
            qcow2++;
            switch (r.exitCode()) {
                case 0 -> clean++;
                case 3 -> leaks++;
                case 2 -> corrupt++;
                default -> failed++;
            }
        }
        return String.format(Locale.ROOT, "%d image%s: %d clean, %d with leaks, %d corrupt, %d failed; %d not qcow2 (%.2f s)",
                qcow2, qcow2 == 1 ? "" : "s", clean, leaks, corrupt, failed, raw, seconds);
    }
}
