package dev.qcow2.crypto;

import dev.qcow2.CorruptImageException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The encryption of a qcow2 image (crypt_method 1: legacy AES, 2: LUKS) — QEMU's qcow2 side of
 * qcrypto_block_open: locates and checks the LUKS area, unlocks it with a secret, describes it.
 */
public final class ImageEncryption {
    private ImageEncryption() { }

    /** Legacy qcow AES (crypto/block-qcow.c): key = passphrase zero-padded/truncated to 16 bytes. */
    private static final int AES_KEY_LENGTH = 16;

    /** The LUKS area as the crypto header extension names it, checked against the file. */
    public record LuksArea(long offset, long length, LuksHeader header) { }

    /**
     * Reads the LUKS header of a crypt-method-2 image: the crypto header extension must be
     * present (qemu: "Missing CRYPTO header for crypt method 2"), cluster aligned, inside the file.
     */
    public static LuksArea luksArea(String resource, Storage storage, Qcow2Header header) throws IOException {
        HeaderExtension.CryptoHeader ext = header.extension(HeaderExtension.CryptoHeader.class).orElseThrow(() ->
                new Qcow2Exception(resource, "Missing CRYPTO header for crypt method 2"));
        long offset = ext.headerOffset();
        long length = ext.headerLength();
        long fileSize = storage.size();
        if (offset < 0 || offset % header.clusterSize() != 0) {
            throw new CorruptImageException(resource, "crypto header extension", ext.offset(), offset,
                    "Encryption header offset '" + Long.toUnsignedString(offset) + "' is not a multiple of cluster size '" + header.clusterSize() + "'");
        }
        if (length < LuksHeader.LENGTH || length < 0 || offset > fileSize || length > fileSize - offset) {
            throw new CorruptImageException(resource, "crypto header extension", ext.offset(), length,
                    "LUKS area of " + Long.toUnsignedString(length) + " bytes at " + offset + " does not fit the file (" + fileSize + " bytes)");
        }
        byte[] raw = new byte[LuksHeader.LENGTH];
        storage.readFully(offset, ByteBuffer.wrap(raw));
        return new LuksArea(offset, length, LuksHeader.decode(resource, offset, length, raw));
    }

    /**
     * Unlocks the image's data cipher with {@code secret}. Legacy AES checks nothing (any key
     * "works", as in QEMU); LUKS tries every active key slot.
     */
    public static DataCipher unlock(String resource, Storage imageStorage, Qcow2Header header, Secret secret) throws IOException {
        byte[] passphrase = secret.bytes();
        try {
            return switch (header.cryptMethod()) {
                case Qcow2Header.CRYPT_AES -> legacyAes(passphrase);
                case Qcow2Header.CRYPT_LUKS -> unlockLuks(resource, imageStorage, luksArea(resource, imageStorage, header), passphrase);
                default -> throw new UnsupportedFeatureException(resource, "image is not encrypted");
            };
        } finally {
            Arrays.fill(passphrase, (byte) 0);
        }
    }

    /** The legacy AES cipher of {@code passphrase} (IVs from guest offsets). */
    private static DataCipher legacyAes(byte[] passphrase) {
        byte[] key = Arrays.copyOf(passphrase, AES_KEY_LENGTH);
        try {
            return new SectorCipher(CipherAlgorithm.AES_128, CipherMode.CBC, IvGenerator.PLAIN64, null, key, false);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static DataCipher unlockLuks(String resource, Storage storage, LuksArea area, byte[] passphrase) throws IOException {
        LuksHeader.Spec spec = area.header().spec(resource);
        byte[] master = LuksUnlock.masterKey(resource, storage, area.offset(), area.header(), spec, passphrase);
        try {
            return spec.cipher(master, true);
        } finally {
            Arrays.fill(master, (byte) 0);
        }
    }

    /**
     * The data cipher of a LUKS area or legacy AES without a qcow2 header (rescue: the header is
     * lost; {@code area} found by its magic, or null for legacy AES). Same checks and messages as
     * {@link #unlock}.
     */
    public static DataCipher unlockWithoutHeader(String resource, Storage storage, LuksArea area, Secret secret) throws IOException {
        byte[] passphrase = secret.bytes();
        try {
            return area == null ? legacyAes(passphrase) : unlockLuks(resource, storage, area, passphrase);
        } finally {
            Arrays.fill(passphrase, (byte) 0);
        }
    }

    /**
     * A LUKS area whose header starts at {@code offset} though no crypto header extension names it
     * (rescue: found by its magic at a cluster boundary): its length is the LUKS payload offset,
     * which QEMU's qcow2 sets to the end of the key material (qcrypto_block_luks_create).
     */
    public static LuksArea luksAreaAt(String resource, Storage storage, long offset) throws IOException {
        long room = storage.size() - offset;
        if (offset < 0 || room < LuksHeader.LENGTH) throw new Qcow2Exception(resource, "no LUKS header fits at offset " + offset);
        byte[] raw = new byte[LuksHeader.LENGTH];
        storage.readFully(offset, ByteBuffer.wrap(raw));
        LuksHeader h = LuksHeader.decode(resource, offset, room, raw);
        long length = Math.min(room, h.payloadOffsetSector() * LuksHeader.SECTOR_SIZE);
        return new LuksArea(offset, length, h);
    }

    /** What qemu-img info shows under "encrypt" (no key needed); empty for unencrypted images. */
    public static java.util.Optional<LuksDescription> describe(String resource, Storage imageStorage, Qcow2Header header) throws IOException {
        return switch (header.cryptMethod()) {
            case Qcow2Header.CRYPT_AES -> java.util.Optional.of(new LuksDescription.Aes());
            case Qcow2Header.CRYPT_LUKS -> {
                LuksArea area = luksArea(resource, imageStorage, header);
                LuksHeader h = area.header();
                LuksHeader.Spec spec = h.spec(resource);
                List<LuksDescription.Slot> slots = new ArrayList<>();
                for (LuksHeader.KeySlot s : h.slots()) {
                    slots.add(new LuksDescription.Slot(s.active(), s.iterations(), s.keyOffset(), s.stripes()));
                }
                yield java.util.Optional.of(new LuksDescription.Luks(spec.cipher().qemuName(), spec.mode().qemuName(),
                        spec.ivGenerator() == IvGenerator.NONE ? null : spec.ivGenerator().qemuName(),
                        spec.ivHash() == null ? null : spec.ivHash().qemuName(), spec.hash().qemuName(), h.uuid(),
                        List.copyOf(slots), h.payloadOffsetSector() * LuksHeader.SECTOR_SIZE, h.masterKeyDigestIterations()));
            }
            default -> java.util.Optional.empty();
        };
    }
}
