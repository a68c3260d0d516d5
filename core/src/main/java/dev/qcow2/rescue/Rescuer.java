package dev.qcow2.rescue;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.crypto.DataCipher;
import dev.qcow2.crypto.ImageEncryption;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Rescues a qcow2 image whose metadata is damaged: reads DAMAGED through a read-only channel (no
 * lock, never written) and writes a NEW image holding every guest cluster the evidence places,
 * at its guest offset, through the ordinary create + writer path (so OUT's refcounts are rebuilt
 * from scratch). Evidence, most certain first:
 * <ol>
 *   <li>the header, if it still parses, for geometry, the active L1 and the snapshot table;
 *       otherwise the cluster size is inferred ({@link ClusterSizeInference});</li>
 *   <li>every host cluster classified ({@link HostScan}); L1 tables found as table-shaped
 *       clusters pointing at table-shaped clusters; L2 tables reached from the active L1, then
 *       from snapshot L1s (older copies) — certain;</li>
 *   <li>L2 tables no L1 reaches (L1 lost): positioned by a guest signature they map (MBR at
 *       guest 0, an ext superblock copy whose group number names its offset), else by host order
 *       (QEMU allocates L2 tables as guest writes reach new 512 MiB/… spans) — inferred;</li>
 *   <li>data clusters no table reaches (L2 lost): signature anchors, then allocation order:
 *       {@code qemu-img convert} writes host clusters in guest order, skipping zero clusters, so
 *       the unplaced host clusters in host order are matched to the guest clusters the file
 *       system says hold data ({@link GuestFs#expectedNonZero}), iterated until that set stops
 *       growing; where counts disagree, a host gap equal to the guest gap places linearly —
 *       inferred.</li>
 * </ol>
 * Memory: a byte per host cluster, a few words per guest cluster; no per-byte structures.
 */
public final class Rescuer {
    private final Storage in;
    private final String res;
    private final long fileSize;
    private final List<RescueReport.Structure> structures = new ArrayList<>();
    private Qcow2Header header;
    private ClusterGeometry geo;
    private String geometryEvidence;
    private HostScan scan;
    private byte[] role;
    private final GuestMap map = new GuestMap();
    /** The shared state of the placement steps, once the host scan is done. */
    private Evidence evidence;

    private final Path damaged;
    private final RescueOptions options;
    private Sources src;
    /** Where OUT's backing file name comes from (null: OUT has none), and its format. */
    private Path outBacking;
    private String outBackingFormat;

    private Rescuer(Storage in, Path damaged, RescueOptions options) throws IOException {
        this.in = in;
        this.res = in.describe();
        this.fileSize = in.size();
        this.damaged = damaged;
        this.options = options;
    }

    /** Rescues {@code damaged} into the new image {@code out}; throws {@link Qcow2Exception} when nothing can be recovered. */
    public static RescueReport rescue(Path damaged, Path out) throws IOException {
        return rescue(damaged, out, RescueOptions.none());
    }

    /**
     * Rescues {@code damaged} into {@code out} with a secret, an external data file or an intact
     * base ({@link RescueOptions}). Every input is checked (secret unlocks, files open) before
     * OUT is created: a failure writes nothing.
     */
    public static RescueReport rescue(Path damaged, Path out, RescueOptions options) throws IOException {
        if (Files.exists(out) && Files.isSameFile(damaged, out)) {
            throw new Qcow2Exception(out.toString(), "the rescued image must be a new file, not the damaged one");
        }
        try (FileStorage in = FileStorage.openReadOnly(damaged)) {
            Rescuer r = new Rescuer(in, damaged, options);
            try {
                return r.run(out);
            } catch (GuestMap.TooLarge e) {
                throw new Qcow2Exception(damaged.toString(), "cannot rescue: " + e.getMessage());
            } finally {
                r.closeSources();
            }
        }
    }

    private Storage dataStorage;
    private BlockDevice baseDevice;
    private DataCipher cipher;

    private void closeSources() throws IOException {
        if (cipher != null) cipher.close();
        if (baseDevice != null) baseDevice.close();
        if (dataStorage != null && dataStorage != in) dataStorage.close();
    }

    private RescueReport run(Path out) throws IOException {
        if (fileSize < 512) throw new Qcow2Exception(res, "nothing recoverable: the file holds " + fileSize + " bytes");
        readHeader();
        openDataFile();
        openBase();
        long externalSize = dataStorage != in ? dataStorage.size() : -1;
        scan = HostScan.scan(in, geo, externalSize);
        role = new byte[scan.clusters()];
        role[0] = Evidence.ROLE_META;
        unlock();
        src = new Sources(dataStorage, dataStorage.size(), dataStorage != in, header != null && header.dataFileRaw(), cipher, baseDevice);
        PackedStreams packed = new PackedStreams();
        evidence = new Evidence(in, fileSize, structures, header, geo, scan, role, map, src, packed);
        TablePlacement tables = new TablePlacement(evidence);
        List<long[]> l1s = new ArrayList<>();
        List<Placement> l1How = new ArrayList<>();
        tables.collectL1s(l1s, l1How);
        for (int i = 0; i < l1s.size(); i++) tables.placeThroughL1(l1s.get(i), l1How.get(i));
        if (tables.lostL2 > 0) structures.add(new RescueReport.Structure("L2 tables", -1, "lost",
                tables.lostL2 + " L1 entries point at clusters that no longer hold an L2 table"));
        new OrphanL2Placement(evidence).placeOrphanL2s();
        List<Long> fsStarts;
        if (src.external()) {
            // the data file holds every data cluster at its guest offset: nothing is left to guess
            new DataFilePlacement(evidence).placeByOffset();
            fsStarts = GuestFs.partitionStarts(evidence.view);
        } else {
            packed.find(evidence);
            if (packed.size() > 0) structures.add(new RescueReport.Structure("compressed clusters", -1, "found",
                    packed.size() + " " + packed.compression() + " streams no table maps, found by decoding (each one cluster):"
                            + " placed as units of their own by signatures and allocation order"));
            if (baseDevice != null) new CowRemnantPlacement(evidence).placeByBaseRemnants();
            fsStarts = new SignaturePlacement(evidence).placeBySignatures();
            new AllocationOrderPlacement(evidence).placeByAllocationOrder(fsStarts);
        }
        long virtualSize = virtualSize(fsStarts);
        if (map.extent() == 0) throw new Qcow2Exception(res, "nothing recoverable: no table, file-system signature or data cluster could be placed");
        Map<Placement, Long> placed = write(out, virtualSize);
        structures.add(new RescueReport.Structure("refcounts", -1, "rebuilt", "written fresh in " + out.getFileName() + " by the image writer"));
        List<Long> leftoverHosts = new ArrayList<>();
        long leftover = 0;
        for (int c = 0; c < scan.clusters(); c++) {
            if (scan.kind[c] == HostScan.DATA && role[c] == Evidence.ROLE_NONE) {
                if (leftoverHosts.size() < RescueReport.LEFTOVER_LISTED) leftoverHosts.add(scan.hostOffset(c));
                leftover++;
            }
        }
        for (int i = 0; i < packed.size(); i++) {
            if (packed.role(i) != Evidence.ROLE_NONE) continue;
            if (leftoverHosts.size() < RescueReport.LEFTOVER_LISTED) leftoverHosts.add(packed.get(i).firstByte());
            leftover++;
        }
        return new RescueReport(res, out.toString(), geo.clusterSize(), geometryEvidence, virtualSize, sizeEvidence,
                List.copyOf(structures), placed, leftover, List.copyOf(leftoverHosts));
    }

    // ---- header and geometry -------------------------------------------------------------

    private void readHeader() throws IOException {
        try {
            header = Qcow2Header.read(in);
            geo = header.geometry();
            geometryEvidence = "header";
            structures.add(new RescueReport.Structure("header", 0, "intact", "magic, version " + header.version()
                    + ", cluster_bits " + header.clusterBits() + ", size " + header.size()));
            return;
        } catch (IOException | RuntimeException e) {
            header = null;
        }
        ClusterSizeInference.Result r = ClusterSizeInference.infer(in, false, options.dataFile() == null ? -1 : Files.size(options.dataFile()));
        PackedStreams.SizeHit streams;
        if (r.clusterBits() < 0 && options.secret() == null && (streams = PackedStreams.clusterBitsFromStreams(in, fileSize)) != null) {
            geo = new ClusterGeometry(streams.bits(), 4, false);
            geometryEvidence = "inferred: no table-shaped cluster at any size; a " + streams.type().name().toLowerCase()
                    + " stream at 0x" + Long.toHexString(streams.at()) + " decodes to exactly " + geo.clusterSize() + " bytes (a compressed cluster)";
        } else if (r.clusterBits() < 0) {
            int bits = clusterBitsFromData();
            geo = new ClusterGeometry(bits, 4, false);
            geometryEvidence = "guessed: no table-shaped cluster at any size; " + geo.clusterSize()
                    + " bytes from the file size and the host alignment of an ext superblock, a FAT boot sector or a partition table"
                    + (earlyArea != null ? " (decrypted) and of the LUKS area" : "");
        } else {
            geo = new ClusterGeometry(r.clusterBits(), 4, false);
            geometryEvidence = "inferred: " + r.score() + " plausible table entries at " + geo.clusterSize()
                    + " bytes (the largest size within 90 % of the best score)";
        }
        structures.add(new RescueReport.Structure("header", 0, "lost", "no qcow2 header at offset 0; cluster size " + geometryEvidence));
    }

    /**
     * Without any table: QEMU allocates whole clusters, so the file size is a multiple of the
     * cluster size, and a guest ext superblock (guest offset 1024 of its cluster) sits 1024 bytes
     * past a cluster boundary (a partition table or a FAT boot sector: at one). The largest power
     * of two (512 B .. 2 MiB) both allow; 64 KiB
     * (QEMU's default) when neither says anything. Encrypted (a secret given): a LUKS area
     * starts at a cluster boundary, normally cluster 4 (so at most a quarter of its offset), and
     * decrypts what follows at its host offsets; else each
     * block is also tried as legacy AES at guest offset 0 (where the superblock is).
     */
    private int clusterBitsFromData() throws IOException {
        int bits = Math.min(ClusterGeometry.MAX_CLUSTER_BITS, Long.numberOfTrailingZeros(fileSize));
        ByteBuffer b = ByteBuffer.allocate(1 << 12);
        boolean sbSeen = false;
        List<Long> partitionStarts = null;
        DataCipher aes = options.secret() == null ? null : ImageEncryption.unlockWithoutHeader(res, in, null, options.secret());
        try {
            for (long at = 0; at + b.capacity() <= fileSize; at += b.capacity()) {
                HostScan.readCluster(in, at, fileSize, b);
                if (at > 0 && options.secret() != null && earlyArea == null && HostScan.luksMagic(b)) {
                    earlyArea = ImageEncryption.luksAreaAt(res, in, at);
                    cipher = ImageEncryption.unlockWithoutHeader(res, in, earlyArea, options.secret());
                    // qemu-img puts the LUKS area after the header, refcount table, refcount block and
                    // L1 (qcow2_co_create, then qcrypto_block_create's init function): at cluster 4
                    // when the L1 fits one cluster, 5 to 7 when it takes 2 to 4
                    bits = Math.min(bits, 63 - Long.numberOfLeadingZeros(Math.max(1, at / 4)));
                    bits = Math.min(bits, Long.numberOfTrailingZeros(at));
                    continue;
                }
                List<ByteBuffer> tries = new ArrayList<>(List.of(b));
                if (cipher != null && at >= earlyArea.offset() + earlyArea.length()) tries.add(decrypted(b, cipher, at));
                if (cipher == null && aes != null) tries.add(decrypted(b, aes, 0));
                for (ByteBuffer t : tries) {
                    for (GuestFs.SuperblockHit hit : GuestFs.superblocks(t)) {
                        if (hit.sb().groupNr() != 0 || hit.inCluster() != 1024) continue;
                        bits = Math.min(bits, Long.numberOfTrailingZeros(at));
                        sbSeen = true;
                    }
                    // a partition table: guest offset 0 of its cluster; a FAT boot sector: the first
                    // byte of its partition, so host and guest offsets agree modulo the cluster size
                    if (!sbSeen && partitionStarts == null && GuestFs.isMbr(t)) {
                        bits = Math.min(bits, Long.numberOfTrailingZeros(at));
                        partitionStarts = GuestFs.mbrPartitionStarts(t);
                    }
                    if (!sbSeen && FatFs.parse(t, 0) != null) {
                        int fatBits = partitionStarts == null ? Long.numberOfTrailingZeros(at) : 0;
                        if (partitionStarts != null) for (long p : partitionStarts) fatBits = Math.max(fatBits, Long.numberOfTrailingZeros(at - p));
                        bits = Math.min(bits, fatBits);
                        sbSeen = true;
                    }
                }
                if (sbSeen) break;
            }
        } finally {
            if (aes != null) aes.close();
        }
        if (!sbSeen) bits = Math.min(bits, 16);
        return Math.max(ClusterGeometry.MIN_CLUSTER_BITS, bits);
    }

    /** A LUKS area found while inferring the geometry (header lost), unlocked into {@link #cipher}. */
    private ImageEncryption.LuksArea earlyArea;

    private static ByteBuffer decrypted(ByteBuffer b, DataCipher c, long offset) {
        byte[] copy = b.array().clone();
        c.decrypt(offset, copy, 0, copy.length);
        return ByteBuffer.wrap(copy);
    }

    // ---- the other inputs: data file, base, secret -------------------------------------------

    /**
     * A file name read from the damaged header (backing file, data file), resolved as QEMU's
     * path_combine against the damaged image, or null when the open policy does not let header
     * names be followed. The one place that decides it ({@link RescueOptions#followHeaderNames}).
     */
    private Path headerNamedFile(String name, String what) throws IOException {
        if (name == null) return null;
        if (!options.follow().follows()) {
            structures.add(new RescueReport.Structure(what, -1, "not opened",
                    "the header names '" + name + "'; names read from a damaged image are not followed (give the file explicitly)"));
            return null;
        }
        Path file = Path.of(dev.qcow2.image.BackingChain.pathCombine(damaged.toString(), name));
        // the open gate of every command (README "Security model"): refused = one line, nothing written
        options.follow().anchoredAt(damaged).check(damaged.toString(), what, file);
        return file;
    }

    private static Storage openInput(Path p, String what) throws IOException {
        try {
            return FileStorage.openReadOnly(p);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Qcow2Exception(p.toString(), what + ": No such file or directory");
        } catch (IOException e) {
            throw new Qcow2Exception(p.toString(), what + ": " + Evidence.oneLine(e));
        }
    }

    private void openDataFile() throws IOException {
        dataStorage = in;
        Path p = options.dataFile();
        String how = "given";
        if (p == null && header != null && header.hasExternalDataFile()) {
            p = headerNamedFile(header.externalDataFile().orElse(null), "data file");
            how = "named by the header";
            if (p == null) throw new Qcow2Exception(res, "the image keeps its data in an external data file"
                    + header.externalDataFile().map(n -> " ('" + n + "')").orElse("") + ": give it (data file option)");
        }
        if (p == null) return;
        dataStorage = openInput(p, "data file");
        structures.add(new RescueReport.Structure("data file", -1, "intact", p + " (" + how + ", " + dataStorage.size()
                + " bytes): data clusters read from it" + (header != null && header.dataFileRaw() ? " (data_file_raw)" : "")));
    }

    private void openBase() throws IOException {
        Path p = options.backing();
        String fmt = options.backingFormat();
        String how = "given";
        if (p == null && header != null && header.backingFileName() != null) {
            p = headerNamedFile(header.backingFileName(), "backing file");
            how = "named by the header";
            if (p == null) throw new Qcow2Exception(res, "the image is an overlay of '" + header.backingFileName()
                    + "': give its base (backing option), or the rescued clusters would read as zeros where the base has data");
            if (fmt == null) fmt = header.backingFormat().orElse(null);
        }
        if (p == null) return;
        try (Storage probe = openInput(p, "backing file")) {
            boolean qcow2 = probe.size() >= 4 && ByteBuffer.wrap(probe.read(0, 4)).getInt() == Qcow2Header.MAGIC;
            if (fmt == null) fmt = qcow2 ? "qcow2" : "raw";
            if (fmt.equals("qcow2") && !qcow2) throw new Qcow2Exception(p.toString(), "backing file: Image is not in qcow2 format");
        }
        baseDevice = switch (fmt) {
            // the base's own chain: gated from the base's directory if the user named it, else from DAMAGED's
            case "qcow2" -> dev.qcow2.image.Qcow2Image.open(p, options.follow().follows()
                    ? OpenOptions.permissive().withFollow(options.backing() != null ? options.follow().reanchoredAt(p) : options.follow().anchoredAt(damaged))
                    : OpenOptions.defaults());
            case "raw" -> dev.qcow2.image.RawImage.open(p);
            default -> throw new Qcow2Exception(p.toString(), "backing file: Unknown driver '" + fmt + "' (qcow2 or raw)");
        };
        outBacking = p.toAbsolutePath();
        outBackingFormat = fmt;
        structures.add(new RescueReport.Structure("backing file", -1, "intact", p + " (" + how + ", " + fmt + ", "
                + baseDevice.size() + " bytes): guest clusters the overlay does not hold read from it; the output is an overlay of it"));
    }

    /**
     * The data cipher: from the header's crypt_method (LUKS: the crypto header extension's area);
     * header lost: a LUKS header at a cluster boundary (its magic), else legacy AES when a secret
     * is given. LUKS IVs count host sectors, so clusters decrypt wherever they are found; legacy
     * AES IVs count guest sectors, so a cluster decrypts only once its guest position is known.
     */
    private void unlock() throws IOException {
        ImageEncryption.LuksArea area = null;
        String how;
        if (header != null && header.cryptMethod() != Qcow2Header.CRYPT_NONE) {
            boolean luks = header.cryptMethod() == Qcow2Header.CRYPT_LUKS;
            if (luks) area = ImageEncryption.luksArea(res, in, header);
            how = "crypt_method " + header.cryptMethod() + " in the header";
            if (options.secret() == null) throw new Qcow2Exception(res, "the image is encrypted ("
                    + (luks ? "LUKS" : "legacy AES") + "): its data cannot be placed or read without the secret");
            cipher = ImageEncryption.unlock(res, in, header, options.secret());
        } else if (header == null && earlyArea != null) {
            area = earlyArea;
            how = "LUKS magic at a cluster boundary (header lost)";
        } else if (header == null) {
            int at = -1;
            for (int c = 1; c < scan.clusters() && at < 0; c++) if (scan.kind[c] == HostScan.LUKS) at = c;
            if (at >= 0) {
                area = ImageEncryption.luksAreaAt(res, in, scan.hostOffset(at));
                how = "LUKS magic at a cluster boundary (header lost)";
                if (options.secret() == null) throw new Qcow2Exception(res, "a LUKS header at 0x" + Long.toHexString(area.offset())
                        + " says the image is encrypted: its data cannot be placed or read without the secret");
                cipher = ImageEncryption.unlockWithoutHeader(res, in, area, options.secret());
            } else if (options.secret() != null) {
                how = "header lost, no LUKS header found, a secret given: legacy AES assumed";
                cipher = ImageEncryption.unlockWithoutHeader(res, in, null, options.secret());
            } else {
                return;
            }
        } else {
            return;
        }
        if (area != null) {
            for (long o = area.offset(); o < area.offset() + area.length() && o < fileSize; o += geo.clusterSize()) {
                role[(int) (o >>> geo.clusterBits())] = Evidence.ROLE_META;
            }
            structures.add(new RescueReport.Structure("LUKS header", area.offset(), header != null ? "intact" : "found",
                    how + "; " + area.header().cipherName() + "-" + area.header().cipherMode() + ", " + area.length()
                            + " bytes; unlocked by the secret: data clusters decrypted at the host offset where found (IV = host offset / 512)"));
        } else {
            structures.add(new RescueReport.Structure("legacy AES encryption", -1, header != null ? "intact" : "guessed",
                    how + "; aes-128-cbc: data clusters decrypted at their guest offset (IV = guest offset / 512), so only once placed;"
                            + " signature placement tries candidates decrypted at the position tested"));
        }
    }

    // ---- the output ------------------------------------------------------------------------------

    private String sizeEvidence;

    private long virtualSize(List<Long> fsStarts) {
        if (header != null && header.size() > 0) { sizeEvidence = "header"; return header.size(); }
        long size = map.extent() << geo.clusterBits();
        sizeEvidence = "inferred: the highest placed guest cluster";
        for (long start : fsStarts) {
            byte[] sb = evidence.view.read(start + 1024, 1024);
            GuestFs.Superblock s = sb == null ? null : GuestFs.Superblock.parse(GuestFs.le(sb), 0);
            if (s != null && start + s.blocksCount() * s.blockSize() > size) {
                size = start + s.blocksCount() * s.blockSize();
                sizeEvidence = "inferred: the guest file system's own size";
            }
            FatFs.BootSector fat = FatFs.at(evidence.view, start);
            if (fat != null && start + fat.size() > size) {
                size = start + fat.size();
                sizeEvidence = "inferred: the guest file system's own size";
            }
        }
        return size;
    }

    private Map<Placement, Long> write(Path out, long virtualSize) throws IOException {
        String opts = "size=" + virtualSize + ",cluster_size=" + geo.clusterSize() + (geo.extendedL2() ? ",extended_l2=on" : "");
        if (outBacking != null) {
            opts += ",backing_file=" + outBacking.toString().replace(",", ",,") + ",backing_fmt=" + outBackingFormat;
        }
        ImageCreator.create(out, CreateOptions.parse(opts));
        Map<Placement, Long> placed = new EnumMap<>(Placement.class);
        long last = (virtualSize + geo.clusterSize() - 1) >>> geo.clusterBits();
        try (Qcow2Writer w = Qcow2Writer.open(out, WriteOptions.defaults())) {
            for (long g = 0; g < Math.min(map.extent(), last); g++) {
                Placement how = map.method(g);
                if (how == null) continue;
                byte[] data;
                try {
                    data = evidence.guestCluster(g);
                } catch (IOException e) {
                    structures.add(new RescueReport.Structure("guest cluster " + g, -1, "lost", Evidence.oneLine(e)));
                    continue;
                }
                placed.merge(how, 1L, Long::sum);
                long at = g << geo.clusterBits();
                int len = (int) Math.min(data.length, virtualSize - at);
                // over a base, a zero cluster must be written: unallocated would read the base
                if (outBacking != null || !HostScan.allZero(ByteBuffer.wrap(data))) w.write(new GuestOffset(at), data, 0, len);
            }
        }
        return placed;
    }
}
