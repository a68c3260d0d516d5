package dev.qcow2.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 dump WHAT FILE}: the raw on-disk structures with decoded fields, for
 * investigation. Human output shows offsets and raw words in hex; JSON gives plain numbers.
 * The image is opened without following its backing or data file.
 */
@Command(name = "dump", mixinStandardHelpOptions = true,
        description = "Print raw qcow2 structures with decoded fields: header, extensions, l1, l2, "
                + "refcount-table, refcounts, snapshots, bitmaps.")
final class DumpCommand implements Callable<Integer> {
    enum What { header, extensions, l1, l2, refcount_table, refcounts, snapshots, bitmaps }

    @Parameters(index = "0", paramLabel = "WHAT",
            description = "header|extensions|l1|l2|refcount-table|refcounts|snapshots|bitmaps")
    String what;

    @Parameters(index = "1", paramLabel = "FILE", description = "The qcow2 image.")
    String file;

    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Option(names = "--snapshot", paramLabel = "S", description = "l1/l2: use this snapshot's L1 table (ID or name).")
    String snapshot;

    @Option(names = "--l1-index", paramLabel = "N", description = "l2: only the L2 table of L1 entry N.")
    Integer l1Index;

    @Override
    public Integer call() throws Exception {
        What w;
        try {
            w = What.valueOf(what.replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("dump: unknown structure '" + what
                    + "' (header, extensions, l1, l2, refcount-table, refcounts, snapshots, bitmaps)");
        }
        ImageOpener.format(file, "qcow2");
        try (Qcow2Image img = Qcow2Image.open(Path.of(file), OpenOptions.defaults())) {
            Object tree = switch (w) {
                case header -> HeaderDump.header(img);
                case extensions -> HeaderDump.extensions(img);
                case l1 -> TableDump.l1(img, snapshot);
                case l2 -> TableDump.l2(img, snapshot, l1Index);
                case refcount_table -> RefcountDump.table(img);
                case refcounts -> RefcountDump.refcounts(img);
                case snapshots -> SnapshotDump.snapshots(img);
                case bitmaps -> SnapshotDump.bitmaps(img);
            };
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(QemuJson.mapper().copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(tree));
            } else {
                StringBuilder sb = new StringBuilder();
                human(sb, tree, 0, null);
                out.print(sb);
            }
            out.flush();
        }
        return 0;
    }

    /** Indented "key: value" lines; numbers whose key names an offset, raw word or bitmap in hex. */
    @SuppressWarnings("unchecked")
    static void human(StringBuilder sb, Object v, int indent, String key) {
        String pad = "  ".repeat(indent);
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                Object val = e.getValue();
                if (val instanceof Map || val instanceof List) {
                    sb.append(pad).append(e.getKey()).append(":\n");
                    human(sb, val, indent + 1, e.getKey());
                } else {
                    sb.append(pad).append(e.getKey()).append(": ").append(scalar(e.getKey(), val)).append('\n');
                }
            }
        } else if (v instanceof List<?> list && isFlatTable(list)) {
            table(sb, (List<Map<String, Object>>) list, pad);
        } else if (v instanceof List<?> list) {
            int i = 0;
            for (Object o : list) {
                if (o instanceof Map || o instanceof List) {
                    sb.append(pad).append('[').append(i).append("]\n");
                    human(sb, o, indent + 1, key);
                } else {
                    sb.append(pad).append('[').append(i).append("] ").append(scalar(key, o)).append('\n');
                }
                i++;
            }
        } else {
            sb.append(pad).append(scalar(key, v)).append('\n');
        }
    }

    /** A non-empty list of maps whose values are all scalars: printed as one aligned row per entry. */
    static boolean isFlatTable(List<?> list) {
        if (list.isEmpty()) return false;
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) return false;
            for (Object val : m.values()) if (val instanceof Map || val instanceof List) return false;
        }
        return true;
    }

    /** Columns are the union of the entries' keys, in first-seen order; missing cells print "-". */
    static void table(StringBuilder sb, List<Map<String, Object>> rows, String pad) {
        java.util.LinkedHashMap<String, Integer> width = new java.util.LinkedHashMap<>();
        for (Map<String, Object> row : rows) {
            for (Map.Entry<String, Object> e : row.entrySet()) {
                int w = Math.max(e.getKey().length(), scalar(e.getKey(), e.getValue()).length());
                width.merge(e.getKey(), w, Math::max);
            }
        }
        StringBuilder line = new StringBuilder(pad);
        width.forEach((k, w) -> line.append(String.format("%-" + w + "s  ", k)));
        sb.append(line.toString().stripTrailing()).append('\n');
        for (Map<String, Object> row : rows) {
            StringBuilder r = new StringBuilder(pad);
            width.forEach((k, w) -> r.append(String.format("%-" + w + "s  ", row.containsKey(k) ? scalar(k, row.get(k)) : "-")));
            sb.append(r.toString().stripTrailing()).append('\n');
        }
    }

    static String scalar(String key, Object v) {
        if (v instanceof Long || v instanceof Integer) {
            long n = ((Number) v).longValue();
            String k = key == null ? "" : key.toLowerCase();
            if (k.contains("offset") || k.contains("raw") || k.contains("bitmap") || k.contains("features") || k.equals("magic")) {
                return "0x" + Long.toHexString(n);
            }
        }
        return String.valueOf(v);
    }
}
