package dev.qcow2.scan;

import dev.qcow2.check.CheckReport;
import dev.qcow2.view.JsonShape;
import dev.qcow2.view.RecordView;
import dev.qcow2.view.Unit;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code qcow2 scan} (and the Spark job) reports for one file: JSON record type
 * {@value #TYPE} (README "JSON record types"). Every field is always present (null where it does
 * not apply), in the order of {@link #fields()}, so the field set is stable.
 *
 * @param format        {@code qcow2}, or {@code raw} for a named file without the qcow2 magic
 * @param features      names of the set feature bits (incompatible, compatible, autoclear)
 * @param backing       the image's backing file, or with {@code --follow-backing} every layer below it
 * @param check         qemu-img check's counters and exit code; null when the image could not be opened
 * @param hashes        algorithm -> hex digest of the active guest content; null without {@code --hash}
 * @param error         the one-line reason the scan of this file failed (other fields as far as it got)
 * @param scanMillis    wall time of this file's scan (the only field that differs between runs)
 */
public record ScanRecord(String path, Long fileSize, String format, Long virtualSize, Long clusterSize,
                         String compat, List<String> features, String encryption, String compressionType,
                         List<Backing> backing, List<Snapshot> snapshots, Check check,
                         Long leakedClusters, Long unreferencedClusters, Map<String, String> hashes,
                         String error, long scanMillis) implements java.io.Serializable {
    public static final String TYPE = "image-scan";

    public ScanRecord {
        features = features == null ? null : List.copyOf(features);
        backing = backing == null ? null : List.copyOf(backing);
        snapshots = snapshots == null ? null : List.copyOf(snapshots);
        hashes = hashes == null ? null : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hashes));
    }

    /**
     * One layer of the backing chain.
     *
     * @param depth    1 = the image's own backing file
     * @param name     as recorded in the header of the layer above
     * @param path     resolved as QEMU's path_combine
     * @param format   the backing-format extension's value, or null
     * @param resolved whether {@code path} names a readable file
     */
    public record Backing(int depth, String name, String path, String format, boolean resolved) implements java.io.Serializable {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("depth", depth);
            m.put("name", name);
            m.put("path", path);
            m.put("format", format);
            m.put("resolved", resolved);
            return m;
        }
    }

    /** One internal snapshot; {@code hashes} with {@code --hash --snapshots} only. */
    public record Snapshot(String id, String name, long dateSec, long dateNsec, long vmStateSize,
                           Map<String, String> hashes) implements java.io.Serializable {
        public String date() { return Instant.ofEpochSecond(dateSec, dateNsec).toString(); }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("name", name);
            m.put("date", date());
            m.put("vm_state_size", vmStateSize);
            m.put("hashes", hashes);
            return m;
        }
    }

    /** qemu-img check's ImageCheck counters (all of them, zeros included) and its exit status. */
    public record Check(int exitCode, long checkErrors, long corruptions, long leaks, long totalClusters,
                        long allocatedClusters, long fragmentedClusters, long compressedClusters,
                        long imageEndOffset, String failure) implements java.io.Serializable {
        public static Check of(CheckReport r) {
            return new Check(r.exitCode(), r.checkErrors(), r.corruptions(), r.leaks(), r.totalClusters(),
                    r.allocatedClusters(), r.fragmentedClusters(), r.compressedClusters(), r.imageEndOffset(),
                    r.failure().orElse(null));
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("exit_code", exitCode);
            m.put("check_errors", checkErrors);
            m.put("corruptions", corruptions);
            m.put("leaks", leaks);
            m.put("total_clusters", totalClusters);
            m.put("allocated_clusters", allocatedClusters);
            m.put("fragmented_clusters", fragmentedClusters);
            m.put("compressed_clusters", compressedClusters);
            m.put("image_end_offset", imageEndOffset);
            m.put("failure", failure);
            return m;
        }
    }

    /** A record for a file that could not be scanned at all (not even opened). */
    public static ScanRecord failed(String path, String error, long scanMillis) {
        return new ScanRecord(path, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, error, scanMillis);
    }

    /**
     * This file's share of the scan's exit status, as {@code qcow2 check}'s: 1 the scan or check
     * failed, 2 corruptions, 3 leaks only, 0 clean (and for raw files).
     */
    public int exitCode() {
        if (error != null) return 1;
        return check == null ? 0 : check.exitCode();
    }

    /** The worse of two exit statuses: 1 (failure) over 2 (corruption) over 3 (leaks) over 0. */
    public static int worse(int a, int b) {
        return rank(a) >= rank(b) ? a : b;
    }

    private static int rank(int exit) {
        return switch (exit) {
            case 0 -> 0;
            case 3 -> 1;
            case 2 -> 2;
            default -> 3;
        };
    }

    /** The fields in record order (without {@code type}). */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("file_size", fileSize);
        m.put("format", format);
        m.put("virtual_size", virtualSize);
        m.put("cluster_size", clusterSize);
        m.put("compat", compat);
        m.put("features", features);
        m.put("encryption", encryption);
        m.put("compression_type", compressionType);
        m.put("backing", backing == null ? null : backing.stream().map(Backing::json).toList());
        m.put("snapshots", snapshots == null ? null : snapshots.stream().map(Snapshot::json).toList());
        m.put("check", check == null ? null : check.json());
        m.put("leaked_clusters", leakedClusters);
        m.put("unreferenced_clusters", unreferencedClusters);
        m.put("hashes", hashes);
        m.put("error", error);
        m.put("scan_ms", scanMillis);
        return m;
    }

    /**
     * The record back from its JSON object, as a JSON library parses it into maps, lists,
     * strings, numbers, booleans and nulls: the inverse of {@link #json()} (the {@code type}
     * field is ignored). For front ends that read the Spark job's lines and render them as the
     * local scan does.
     *
     * @throws IllegalArgumentException when a field has the wrong shape
     */
    public static ScanRecord fromJson(Map<String, ?> m) {
        Map<String, ?> c = map(m.get("check"));
        return new ScanRecord(str(m.get("path")), lng(m.get("file_size")), str(m.get("format")), lng(m.get("virtual_size")),
                lng(m.get("cluster_size")), str(m.get("compat")),
                m.get("features") == null ? null : list(m.get("features")).stream().map(ScanRecord::str).toList(),
                str(m.get("encryption")), str(m.get("compression_type")),
                m.get("backing") == null ? null : list(m.get("backing")).stream().map(ScanRecord::map).map(b -> new Backing(
                        (int) (long) lng(b.get("depth")), str(b.get("name")), str(b.get("path")), str(b.get("format")),
                        Boolean.TRUE.equals(b.get("resolved")))).toList(),
                m.get("snapshots") == null ? null : list(m.get("snapshots")).stream().map(ScanRecord::map).map(x -> {
                    Instant date = Instant.parse(str(x.get("date")));
                    return new Snapshot(str(x.get("id")), str(x.get("name")), date.getEpochSecond(), date.getNano(),
                            lng(x.get("vm_state_size")), hashes(x.get("hashes")));
                }).toList(),
                c == null ? null : new Check((int) (long) lng(c.get("exit_code")), lng(c.get("check_errors")), lng(c.get("corruptions")),
                        lng(c.get("leaks")), lng(c.get("total_clusters")), lng(c.get("allocated_clusters")),
                        lng(c.get("fragmented_clusters")), lng(c.get("compressed_clusters")), lng(c.get("image_end_offset")),
                        str(c.get("failure"))),
                lng(m.get("leaked_clusters")), lng(m.get("unreferenced_clusters")), hashes(m.get("hashes")),
                str(m.get("error")), m.get("scan_ms") == null ? 0 : lng(m.get("scan_ms")));
    }

    private static String str(Object o) {
        if (o == null || o instanceof String) return (String) o;
        throw new IllegalArgumentException("expected a string: " + o);
    }

    private static Long lng(Object o) {
        if (o == null) return null;
        if (o instanceof Number n && n.doubleValue() == n.longValue()) return n.longValue();
        throw new IllegalArgumentException("expected an integer: " + o);
    }

    private static List<?> list(Object o) {
        if (o instanceof List<?> l) return l;
        throw new IllegalArgumentException("expected a list: " + o);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(Object o) {
        if (o == null || o instanceof Map<?, ?>) return (Map<String, ?>) o;
        throw new IllegalArgumentException("expected an object: " + o);
    }

    private static Map<String, String> hashes(Object o) {
        Map<String, ?> m = map(o);
        if (m == null) return null;
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, str(v)));
        return out;
    }

    /** The record as a view (DSL, notebooks): type {@value #TYPE}. */
    public RecordView view() {
        return new RecordView(TYPE, path, fields(), Map.of("file_size", Unit.BYTES, "virtual_size", Unit.BYTES,
                "cluster_size", Unit.BYTES));
    }

    /** The JSON object: {@code "type"} first, then {@link #fields()}. */
    public Map<String, Object> json() { return JsonShape.record(view()); }

    /** The JSON object on one line (what {@code qcow2 scan --output=json} and the Spark job write). */
    public String jsonLine() { return JsonLine.of(json()); }

    public Optional<String> errorMessage() { return Optional.ofNullable(error); }
}
