package dev.qcow2.cli;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QAPI {@code ImageInfo} of one image as qemu-img 7.2 builds it (bdrv_query_image_info,
 * qcow2_get_specific_info), as maps in QAPI visiting order. The image is opened without its
 * backing file or data file (BDRV_O_NO_BACKING | BDRV_O_NO_IO).
 */
final class ImageInfo {
    private ImageInfo() { }

    static Map<String, Object> of(String file, String format) throws IOException {
        String fmt = ImageOpener.format(file, format);
        return fmt.equals("qcow2") ? qcow2(file, null, false, null) : raw(file);
    }

    /**
     * The info of an image operand: as {@link #of(String, String)}, with qemu-img's name for it
     * ({@link ImageArg#displayName}) and its {@code encrypt.format} checked. Info reads no data,
     * so it needs no secret (qemu-img opens with BDRV_O_NO_IO).
     */
    static Map<String, Object> of(ImageArg image) throws IOException {
        return of(image, false, null);
    }

    /** {@link #of(ImageArg)}; {@code tolerant}: read past header contradictions, naming each on {@code err}. */
    static Map<String, Object> of(ImageArg image, boolean tolerant, java.io.PrintWriter err) throws IOException {
        String fmt = ImageOpener.format(image);
        Map<String, Object> info = fmt.equals("qcow2") ? qcow2(image.file(), image, tolerant, err) : raw(image.file());
        info.put("filename", image.displayName());
        return info;
    }

    private static Map<String, Object> raw(String file) throws IOException {
        Map<String, Object> info = new LinkedHashMap<>();
        try (Storage s = FileStorage.openReadOnly(Path.of(file))) {
            info.put("filename", file);
            info.put("format", "raw");
            info.put("dirty-flag", false);
            long allocated = s.allocatedBytes();
            if (allocated >= 0) info.put("actual-size", allocated);
            info.put("virtual-size", (s.size() + 511) & ~511L);
        }
        return info;
    }

    private static Map<String, Object> qcow2(String file, ImageArg image, boolean tolerant, java.io.PrintWriter err) throws IOException {
        // BDRV_O_NO_IO: the contradictions QEMU checks only before guest I/O do not refuse info
        OpenOptions noBacking = OpenOptions.defaults().withMetadataOnly(true).withTolerant(tolerant);
        try (Qcow2Image img = Qcow2Image.open(Path.of(file), noBacking)) {
            if (err != null) TolerantOption.reportIgnored(img, err);
            if (image != null) ImageOpener.checkEncryptFormat(image, img);
            Qcow2Header h = img.header();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("filename", file);
            info.put("format", "qcow2");
            info.put("dirty-flag", h.isDirty());
            long allocated = actualSize(file, img);
            if (allocated >= 0) info.put("actual-size", allocated);
            info.put("virtual-size", img.size());
            info.put("cluster-size", (long) h.clusterSize());
            if (img.encrypted()) info.put("encrypted", true);
            img.backingLink().ifPresent(link -> {
                info.put("backing-filename", link.name());
                info.put("full-backing-filename", link.fullName());
                if (link.format() != null) info.put("backing-filename-format", link.format());
            });
            List<SnapshotEntry> snaps = img.snapshots();
            if (!snaps.isEmpty()) info.put("snapshots", snapshots(snaps));
            info.put("format-specific", formatSpecific(img));
            return info;
        }
    }

    /** bdrv_get_allocated_file_size in 7.2: the image file's st_blocks*512 (an external data file is not counted). */
    private static long actualSize(String file, Qcow2Image img) throws IOException {
        return img.storage().allocatedBytes();
    }

    static List<Object> snapshots(List<SnapshotEntry> snaps) {
        List<Object> out = new ArrayList<>();
        for (SnapshotEntry s : snaps) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.id());
            m.put("name", s.name());
            m.put("vm-state-size", s.vmStateSize());
            m.put("date-sec", s.dateSec());
            m.put("date-nsec", s.dateNsec());
            m.put("vm-clock-sec", s.vmClockNsec() / 1_000_000_000L);
            m.put("vm-clock-nsec", s.vmClockNsec() % 1_000_000_000L);
            if (s.icount() != -1) m.put("icount", s.icount());
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> formatSpecific(Qcow2Image img) throws IOException {
        Qcow2Header h = img.header();
        Map<String, Object> data = new LinkedHashMap<>();
        if (h.version() == 2) {
            data.put("compat", "0.10");
            data.put("refcount-bits", (long) h.refcountBits());
        } else {
            data.put("compat", "1.1");
            if (h.hasExternalDataFile() && h.externalDataFile().isPresent()) data.put("data-file", h.externalDataFile().get());
            if (h.hasExternalDataFile()) data.put("data-file-raw", h.dataFileRaw());
            data.put("extended-l2", h.hasExtendedL2());
            data.put("lazy-refcounts", h.lazyRefcounts());
            data.put("corrupt", h.isCorrupt());
            data.put("refcount-bits", (long) h.refcountBits());
        }
        if (img.encrypted()) {
            // qemu-img info shows the LUKS header (QCryptoBlockInfoLUKS) without needing the key
            Map<String, Object> encrypt;
            try {
                encrypt = dev.qcow2.crypto.ImageEncryption.describe(img.describe(), img.storage(), h)
                        .map(dev.qcow2.crypto.LuksDescription::qemuFields).orElse(Map.of("format", img.encryptionFormat()));
            } catch (dev.qcow2.Qcow2Exception e) {
                encrypt = Map.of("format", img.encryptionFormat());
            }
            data.put("encrypt", encrypt);
        }
        if (h.version() >= 3) {
            List<BitmapDirectoryEntry> bitmaps = img.bitmaps();
            if (!bitmaps.isEmpty()) data.put("bitmaps", bitmaps(bitmaps));
        }
        data.put("compression-type", h.compressionTypeName());
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("type", "qcow2");
        spec.put("data", data);
        return spec;
    }

    private static List<Object> bitmaps(List<BitmapDirectoryEntry> entries) {
        List<Object> out = new ArrayList<>();
        for (BitmapDirectoryEntry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("granularity", e.granularity());
            List<Object> flags = new ArrayList<>();
            if (e.inUse()) flags.add("in-use");
            if (e.auto()) flags.add("auto");
            m.put("flags", flags);
            out.add(m);
        }
        return out;
    }
}
