package dev.qcow2.view;

import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.Qcow2Image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The image header (qcow2.rst "Header", "Header extensions"): what {@code qcow2 dump header} /
 * {@code dump extensions} and the DSL's {@code header} / {@code extensions} / {@code features} show.
 */
public final class HeaderViews {
    public static final String HEADER_TYPE = "header";
    public static final String EXTENSION_TYPE = "header-extension";
    public static final String FEATURE_TYPE = "feature-bit";

    private HeaderViews() { }

    /**
     * Every header field present in this version, in on-disk order with qcow2.rst's (and QEMU's
     * QCowHeader) names, then what they decode to: the backing file name (null when none), the
     * cluster size, refcount width, compression type, the names of the set feature bits, and how
     * many header bytes this library does not know (a newer header).
     */
    public static RecordView header(Qcow2Image img) {
        Qcow2Header h = img.header();
        Map<String, Object> f = new LinkedHashMap<>();
        Map<String, Unit> units = new LinkedHashMap<>();
        for (Object[] field : h.fields()) {
            String name = (String) field[0];
            f.put(name, field[3]);
            if (name.endsWith("_offset") || name.equals("magic") || name.endsWith("_features")) units.put(name, Unit.HEX);
            if (name.equals("size")) units.put(name, Unit.BYTES);
        }
        f.put("backing_file", h.backingFileName());
        f.put("cluster_size", (long) h.clusterSize());
        units.put("cluster_size", Unit.BYTES);
        f.put("refcount_bits", (long) h.refcountBits());
        f.put("compression", h.compressionTypeName());
        f.put("incompatible_feature_names", names(FeatureBits.Kind.INCOMPATIBLE, h.incompatibleFeatures(), h));
        f.put("compatible_feature_names", names(FeatureBits.Kind.COMPATIBLE, h.compatibleFeatures(), h));
        f.put("autoclear_feature_names", names(FeatureBits.Kind.AUTOCLEAR, h.autoclearFeatures(), h));
        f.put("unknown_header_bytes", h.unknownHeaderFields() == null ? 0L : (long) h.unknownHeaderFields().length);
        return new RecordView(HEADER_TYPE, "header of " + Subject.of(img), f, units);
    }

    private static List<String> names(FeatureBits.Kind kind, long bits, Qcow2Header h) {
        List<String> out = new ArrayList<>();
        for (FeatureBits.NamedBit b : FeatureBits.describe(kind, bits, h.featureNames())) out.add(b.name());
        return out;
    }

    /** The header extensions in file order, each with a one-line summary of its content. */
    public static TableView extensions(Qcow2Image img) {
        TableView.Builder t = TableView.of(EXTENSION_TYPE, "header extensions of " + Subject.of(img), List.of(
                Column.hex("extension_type"), Column.plain("name"), Column.hex("offset"), Column.bytes("length"),
                Column.plain("detail")));
        for (HeaderExtension e : img.header().extensions()) {
            t.add(Integer.toUnsignedLong(e.type()), e.name(), e.offset(), (long) e.length(), detail(e));
        }
        return t.build();
    }

    private static String detail(HeaderExtension e) {
        return switch (e) {
            case HeaderExtension.BackingFormat b -> b.format();
            case HeaderExtension.ExternalDataFile d -> d.fileName();
            case HeaderExtension.FeatureNameTable t -> t.names().size() + " names";
            case HeaderExtension.Bitmaps b -> b.nbBitmaps() + " bitmaps, directory at " + Cells.hex(b.directoryOffset())
                    + " (" + b.directorySize() + " bytes)";
            case HeaderExtension.CryptoHeader c -> "LUKS header at " + Cells.hex(c.headerOffset()) + ", " + c.headerLength() + " bytes";
            case HeaderExtension.Unknown u -> "";
        };
    }

    /**
     * Every feature bit that is known (to QEMU or to the image's feature-name table) or set:
     * kind, bit, name, whether it is set, whether this library knows it.
     */
    public static TableView features(Qcow2Image img) {
        Qcow2Header h = img.header();
        TableView.Builder t = TableView.of(FEATURE_TYPE, "feature bits of " + Subject.of(img), List.of(Column.plain("kind"),
                Column.plain("bit"), Column.plain("name"), Column.plain("set"), Column.plain("known")));
        for (FeatureBits.Kind kind : FeatureBits.Kind.values()) {
            long bits = switch (kind) {
                case INCOMPATIBLE -> h.incompatibleFeatures();
                case COMPATIBLE -> h.compatibleFeatures();
                case AUTOCLEAR -> h.autoclearFeatures();
            };
            long known = switch (kind) {
                case INCOMPATIBLE -> FeatureBits.INCOMPAT_KNOWN;
                case COMPATIBLE -> FeatureBits.COMPAT_KNOWN;
                case AUTOCLEAR -> FeatureBits.AUTOCLEAR_KNOWN;
            };
            for (int bit = 0; bit < 64; bit++) {
                String name = null;
                for (HeaderExtension.FeatureName n : h.featureNames()) {
                    if (n.featureType() == kind.ordinal() && n.bit() == bit) {
                        name = n.name();
                        break;
                    }
                }
                if (name == null) name = FeatureBits.knownName(kind, bit);
                boolean set = (bits & (1L << bit)) != 0;
                if (!set && name == null) continue;
                t.add(kind.name().toLowerCase(java.util.Locale.ROOT), (long) bit, name == null ? "(unnamed)" : name, set,
                        (known & (1L << bit)) != 0);
            }
        }
        return t.build();
    }
}
