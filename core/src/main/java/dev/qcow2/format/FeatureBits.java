package dev.qcow2.format;

import java.util.ArrayList;
import java.util.List;

/** The named feature bits of the v3 header (qcow2.rst "Header", bytes 72-95). */
public final class FeatureBits {
    private FeatureBits() { }

    public static final long INCOMPAT_DIRTY = 1L;
    public static final long INCOMPAT_CORRUPT = 1L << 1;
    public static final long INCOMPAT_DATA_FILE = 1L << 2;
    public static final long INCOMPAT_COMPRESSION = 1L << 3;
    public static final long INCOMPAT_EXTL2 = 1L << 4;
    /** Every incompatible bit this library understands (QEMU's QCOW2_INCOMPAT_MASK). */
    public static final long INCOMPAT_KNOWN = 0x1F;

    public static final long COMPAT_LAZY_REFCOUNTS = 1L;
    public static final long COMPAT_KNOWN = 0x1;

    public static final long AUTOCLEAR_BITMAPS = 1L;
    public static final long AUTOCLEAR_DATA_FILE_RAW = 1L << 1;
    public static final long AUTOCLEAR_KNOWN = 0x3;

    public enum Kind { INCOMPATIBLE, COMPATIBLE, AUTOCLEAR }

    /** QEMU's names for the known bits, as written in its feature-name table. */
    public static String knownName(Kind kind, int bit) {
        return switch (kind) {
            case INCOMPATIBLE -> switch (bit) {
                case 0 -> "dirty bit";
                case 1 -> "corrupt bit";
                case 2 -> "external data file";
                case 3 -> "compression type";
                case 4 -> "extended L2 entries";
                default -> null;
            };
            case COMPATIBLE -> bit == 0 ? "lazy refcounts" : null;
            case AUTOCLEAR -> switch (bit) {
                case 0 -> "bitmaps";
                case 1 -> "raw external data";
                default -> null;
            };
        };
    }

    /** A set bit with its name: from the image's feature table if it has one, else QEMU's. */
    public record NamedBit(Kind kind, int bit, String name, boolean known) { }

    public static List<NamedBit> describe(Kind kind, long bits, List<HeaderExtension.FeatureName> table) {
        long knownMask = switch (kind) {
            case INCOMPATIBLE -> INCOMPAT_KNOWN;
            case COMPATIBLE -> COMPAT_KNOWN;
            case AUTOCLEAR -> AUTOCLEAR_KNOWN;
        };
        List<NamedBit> out = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((bits & (1L << bit)) == 0) continue;
            String name = null;
            for (HeaderExtension.FeatureName f : table) {
                if (f.featureType() == kind.ordinal() && f.bit() == bit) name = f.name();
            }
            if (name == null) name = knownName(kind, bit);
            out.add(new NamedBit(kind, bit, name, (knownMask & (1L << bit)) != 0));
        }
        return out;
    }
}
