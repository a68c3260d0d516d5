package dev.qcow2.rescue;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a carve into OUTDIR: one file per run ({@link CarvedRun#fileName}: host offset and kind)
 * holding its bytes as they are in the image, and {@value #MANIFEST} listing every run (offset,
 * length, status, kind, evidence, sha256, file). Zero runs get no file (the manifest says so).
 *
 * <p>OUTDIR must be new or empty, as forensic carvers (foremost, scalpel) require: carved evidence
 * from two images, or two runs, is never mixed, and nothing is overwritten. It is checked before
 * the image is read; the files are written with CREATE_NEW.
 */
public final class CarveOutput {
    public static final String MANIFEST = "manifest.json";

    private final Path dir;

    private CarveOutput(Path dir) { this.dir = dir; }

    static CarveOutput prepare(Path dir) throws IOException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) throw new Qcow2Exception(dir.toString(), "not a directory");
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new Qcow2Exception(dir.toString(), "directory is not empty: carve writes only into a new or empty directory");
                }
            }
        } else {
            Files.createDirectories(dir);
        }
        return new CarveOutput(dir);
    }

    CarveReport write(Storage in, CarveReport report) throws IOException {
        List<CarvedRun> written = new ArrayList<>(report.runs().size());
        byte[] buf = new byte[Math.max(report.clusterSize(), 1 << 20)];
        for (CarvedRun r : report.runs()) {
            if (r.provenance() instanceof Provenance.Zeros) { written.add(r); continue; }
            String name = r.fileName();
            try (OutputStream o = Files.newOutputStream(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long at = 0; at < r.length(); ) {
                    int n = (int) Math.min(buf.length, r.length() - at);
                    in.readFully(r.hostOffset() + at, ByteBuffer.wrap(buf, 0, n));
                    o.write(buf, 0, n);
                    at += n;
                }
            }
            written.add(r.withFile(name));
        }
        CarveReport done = new CarveReport(report.source(), report.clusterSize(), report.fileSize(), report.referencedClusters(),
                report.freeZeroClusters(), List.copyOf(written), report.warnings(), dir.toString());
        Files.writeString(dir.resolve(MANIFEST), manifest(done), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return done;
    }

    /** The manifest: the report as one JSON object (the CLI's {@code --output=json} prints the same). */
    public static String manifest(CarveReport r) {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"source\": ").append(str(r.source()))
                .append(",\n  \"cluster-size\": ").append(r.clusterSize())
                .append(",\n  \"file-size\": ").append(r.fileSize())
                .append(",\n  \"referenced-clusters\": ").append(r.referencedClusters())
                .append(",\n  \"free-zero-clusters\": ").append(r.freeZeroClusters())
                .append(",\n  \"carved-clusters\": ").append(r.carvedClusters());
        for (CarveStatus s : CarveStatus.values()) b.append(",\n  \"").append(s.label()).append("-clusters\": ").append(r.clusters(s));
        b.append(",\n  \"warnings\": [");
        for (int i = 0; i < r.warnings().size(); i++) b.append(i == 0 ? "\n    " : ",\n    ").append(str(r.warnings().get(i)));
        b.append(r.warnings().isEmpty() ? "]" : "\n  ]");
        b.append(",\n  \"runs\": [");
        for (int i = 0; i < r.runs().size(); i++) {
            CarvedRun run = r.runs().get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"offset\": ").append(run.hostOffset())
                    .append(", \"length\": ").append(run.length())
                    .append(", \"status\": ").append(str(run.status().label()))
                    .append(", \"kind\": ").append(str(run.provenance().kind()));
            fields(b, run.provenance());
            b.append(", \"evidence\": ").append(str(run.provenance().evidence()))
                    .append(", \"sha256\": ").append(str(run.sha256()))
                    .append(", \"file\": ").append(run.file() == null ? "null" : str(run.file())).append('}');
        }
        b.append(r.runs().isEmpty() ? "]" : "\n  ]").append("\n}\n");
        return b.toString();
    }

    /** The machine-readable parts of a provenance (guest offsets, snapshot names). */
    private static void fields(StringBuilder b, Provenance p) {
        switch (p) {
            case Provenance.OldL2Table t -> {
                if (t.guestOffset() >= 0) b.append(", \"guest-offset\": ").append(t.guestOffset()).append(", \"guest-length\": ").append(t.guestLength());
                if (t.snapshot() != null) b.append(", \"snapshot\": ").append(str(t.snapshot()));
            }
            case Provenance.FreedData d -> {
                if (d.guestOffset() >= 0) b.append(", \"guest-offset\": ").append(d.guestOffset());
                b.append(", \"l2-offset\": ").append(d.l2Offset());
                if (d.snapshot() != null) b.append(", \"snapshot\": ").append(str(d.snapshot()));
            }
            case Provenance.CompressedStream s -> {
                b.append(", \"stream-offset\": ").append(s.streamOffset()).append(", \"streams\": ").append(s.streams());
                if (s.guestOffset() >= 0) b.append(", \"guest-offset\": ").append(s.guestOffset());
            }
            case Provenance.OldL1Table t -> { if (t.snapshot() != null) b.append(", \"snapshot\": ").append(str(t.snapshot())); }
            case Provenance.OldRefcountBlock t -> { }
            case Provenance.OldRefcountTable t -> { }
            case Provenance.OldSnapshotTable t -> { }
            case Provenance.Zeros z -> { }
            case Provenance.UnknownData u -> { }
        }
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> { if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c); }
            }
        }
        return b.append('"').toString();
    }

    /** The sha256 of {@code length} bytes at {@code offset}, read in chunks. */
    static String sha256(Storage in, long offset, long length, int chunk) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[Math.max(chunk, 1 << 16)];
        for (long at = 0; at < length; ) {
            int n = (int) Math.min(buf.length, length - at);
            in.readFully(offset + at, ByteBuffer.wrap(buf, 0, n));
            md.update(buf, 0, n);
            at += n;
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
