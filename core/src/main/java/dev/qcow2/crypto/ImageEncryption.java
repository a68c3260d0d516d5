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
                case Qcow2Header.CRYPT_AES -> {
                    byte[] key = Arrays.copyOf(passphrase, AES_KEY_LENGTH);
                    try {
                        yield new SectorCipher(CipherAlgorithm.AES_128, CipherMode.CBC, IvGenerator.PLAIN64, null, key, false);
                    } finally {
                        Arrays.fill(key, (byte) 0);
                    }
                }
                case Qcow2Header.CRYPT_LUKS -> {
                    LuksArea area = luksArea(resource, imageStorage, header);
                    LuksHeader.Spec spec = area.header().spec(resource);
                    byte[] master = LuksUnlock.masterKey(resource, imageStorage, area.offset(), area.header(), spec, passphrase);
                    try {
                        yield spec.cipher(master, true);
                    } finally {
                        Arrays.fill(master, (byte) 0);
                    }
                }
                default -> throw new UnsupportedFeatureException(resource, "image is not encrypted");
            };
        } finally {
            Arrays.fill(passphrase, (byte) 0);
        }
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
