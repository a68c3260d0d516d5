package dev.qcow2.cli;

import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.Qcow2Image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code dump header} and {@code dump extensions}: every field in on-disk order, feature bits by name. */
final class HeaderDump {
    private HeaderDump() { }

    static Map<String, Object> header(Qcow2Image img) {
        Qcow2Header h = img.header();
        Map<String, Object> out = new LinkedHashMap<>();
        for (Object[] f : h.fields()) out.put((String) f[0], f[3]);
        out.put("cluster_size", (long) h.clusterSize());
        out.put("refcount_bits", (long) h.refcountBits());
        out.put("compression", h.compressionTypeName());
        out.put("incompatible", names(FeatureBits.Kind.INCOMPATIBLE, h.incompatibleFeatures(), h));
        out.put("compatible", names(FeatureBits.Kind.COMPATIBLE, h.compatibleFeatures(), h));
        out.put("autoclear", names(FeatureBits.Kind.AUTOCLEAR, h.autoclearFeatures(), h));
        if (h.backingFileName() != null) out.put("backing_file", h.backingFileName());
        if (h.unknownHeaderFields() != null && h.unknownHeaderFields().length > 0) {
            out.put("unknown_header_bytes", (long) h.unknownHeaderFields().length);
        }
        return out;
    }

    private static List<Object> names(FeatureBits.Kind kind, long bits, Qcow2Header h) {
        List<Object> out = new ArrayList<>();
        for (FeatureBits.NamedBit b : FeatureBits.describe(kind, bits, h.featureNames())) out.add(b.name());
        return out;
    }

    static List<Object> extensions(Qcow2Image img) {
        List<Object> out = new ArrayList<>();
        for (HeaderExtension e : img.header().extensions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("type", "0x" + Integer.toHexString(e.type()));
            m.put("offset", e.offset());
            m.put("length", (long) e.length());
            switch (e) {
                case HeaderExtension.BackingFormat b -> m.put("format", b.format());
                case HeaderExtension.ExternalDataFile d -> m.put("file_name", d.fileName());
                case HeaderExtension.Bitmaps b -> {
                    m.put("nb_bitmaps", b.nbBitmaps());
                    m.put("bitmap_directory_size", b.directorySize());
                    m.put("bitmap_directory_offset", b.directoryOffset());
                }
                case HeaderExtension.CryptoHeader c -> {
                    m.put("crypto_header_offset", c.headerOffset());
                    m.put("crypto_header_length", c.headerLength());
                }
                case HeaderExtension.FeatureNameTable t -> {
                    List<Object> names = new ArrayList<>();
                    for (HeaderExtension.FeatureName f : t.names()) {
                        names.add(Map.of("type", (long) f.featureType(), "bit", (long) f.bit(), "name", f.name()));
                    }
                    m.put("features", names);
                }
                case HeaderExtension.Unknown u -> { }   // type, offset and length only
            }
            out.add(m);
        }
        return out;
    }
}
