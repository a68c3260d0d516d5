package dev.qcow2.crypto;

import dev.qcow2.CorruptImageException;
import dev.qcow2.UnsupportedFeatureException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The LUKS1 partition header (592 bytes, big-endian) as QEMU's crypto/block-luks.c reads and
 * writes it: magic "LUKS\xba\xbe", version 1, cipher name/mode, hash spec, payload offset, key
 * bytes, master-key digest (20 bytes) with its salt and iterations, UUID, and eight key slots.
 * Inside qcow2 the header sits at the start of the area named by the crypto header extension;
 * key-material offsets count 512-byte sectors from there.
 */
public record LuksHeader(String cipherName, String cipherMode, String hashSpec, long payloadOffsetSector,
                         int keyBytes, byte[] masterKeyDigest, byte[] masterKeyDigestSalt,
                         long masterKeyDigestIterations, String uuid, List<KeySlot> slots) {

    public static final int LENGTH = 592;
    public static final int SECTOR_SIZE = 512;
    public static final int SLOT_COUNT = 8;
    public static final int STRIPES = 4000;
    public static final int DIGEST_LENGTH = 20;
    public static final int SALT_LENGTH = 32;
    /** Key slots start on 4 KiB boundaries (QCRYPTO_BLOCK_LUKS_KEY_SLOT_OFFSET). */
    public static final int SLOT_ALIGNMENT = 4096;
    static final int SLOT_ENABLED = 0x00AC71F3;
    static final int SLOT_DISABLED = 0x0000DEAD;
    private static final byte[] MAGIC = {'L', 'U', 'K', 'S', (byte) 0xBA, (byte) 0xBE};

    /** One key slot: the master key split, encrypted under PBKDF2(passphrase, salt, iterations). */
    public record KeySlot(boolean active, long iterations, byte[] salt, long keyOffsetSector, int stripes) {
        public long keyOffset() { return keyOffsetSector * SECTOR_SIZE; }
    }

    /** The parsed cipher specification (qcrypto_block_luks_parse_header). */
    public record Spec(CipherAlgorithm cipher, CipherMode mode, IvGenerator ivGenerator, HashAlgorithm ivHash,
                       HashAlgorithm hash) {
        /** Bytes of key the cipher takes: XTS takes two keys. */
        public int keyBytes() { return cipher.keyLength() * (mode == CipherMode.XTS ? 2 : 1); }

        /** The LUKS cipher-mode string: "xts-plain64", "cbc-essiv:sha256", "ecb". */
        public String modeString() {
            if (ivGenerator == IvGenerator.NONE) return mode.qemuName();
            return mode.qemuName() + "-" + ivGenerator.qemuName() + (ivGenerator == IvGenerator.ESSIV ? ":" + ivHash.qemuName() : "");
        }

        SectorCipher cipher(byte[] key, boolean ivFromHostOffset) {
            return new SectorCipher(cipher, mode, ivGenerator, ivHash, key, ivFromHostOffset);
        }
    }

    /** Bytes of split key material of one slot, and the sectors it occupies rounded to the slot alignment. */
    public int splitKeyLength() { return keyBytes * STRIPES; }

    public long splitKeySectors() {
        long sectors = ((long) keyBytes * STRIPES + SECTOR_SIZE - 1) / SECTOR_SIZE;
        long align = SLOT_ALIGNMENT / SECTOR_SIZE;
        return (sectors + align - 1) / align * align;
    }

    /**
     * Decodes and validates a header (qcrypto_block_luks_load_header + check_header), with QEMU's
     * messages; {@code areaLength} bounds every key slot.
     */
    public static LuksHeader decode(String resource, long areaOffset, long areaLength, byte[] raw) throws CorruptImageException {
        if (raw.length < LENGTH) throw corrupt(resource, areaOffset, "LUKS header is truncated (" + raw.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(raw);
        byte[] magic = new byte[6];
        b.get(magic);
        if (!Arrays.equals(magic, MAGIC)) throw corrupt(resource, areaOffset, "Volume is not in LUKS format");
        int version = Short.toUnsignedInt(b.getShort());
        if (version != 1) throw corrupt(resource, areaOffset, "LUKS version " + version + " is not supported");
        String cipherName = cString(resource, areaOffset, b, 32, "cipher name");
        String cipherMode = cString(resource, areaOffset, b, 32, "cipher mode");
        String hashSpec = cString(resource, areaOffset, b, 32, "hash spec");
        long payload = Integer.toUnsignedLong(b.getInt());
        int keyBytes = b.getInt();
        byte[] digest = new byte[DIGEST_LENGTH];
        b.get(digest);
        byte[] digestSalt = new byte[SALT_LENGTH];
        b.get(digestSalt);
        long digestIterations = Integer.toUnsignedLong(b.getInt());
        byte[] uuidBytes = new byte[40];
        b.get(uuidBytes);
        int end = 0;
        while (end < uuidBytes.length && uuidBytes[end] != 0) end++;
        String uuid = new String(uuidBytes, 0, end, StandardCharsets.US_ASCII);
        List<KeySlot> slots = new ArrayList<>();
        for (int i = 0; i < SLOT_COUNT; i++) {
            int active = b.getInt();
            long iterations = Integer.toUnsignedLong(b.getInt());
            byte[] salt = new byte[SALT_LENGTH];
            b.get(salt);
            long keyOffset = Integer.toUnsignedLong(b.getInt());
            int stripes = b.getInt();
            if (active != SLOT_ENABLED && active != SLOT_DISABLED) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " state (active/disable) is corrupted");
            }
            slots.add(new KeySlot(active == SLOT_ENABLED, iterations, salt, keyOffset, stripes));
        }
        if (keyBytes <= 0 || keyBytes > 64) {
            throw corrupt(resource, areaOffset, "LUKS key size " + Integer.toUnsignedString(keyBytes) + " is not supported");
        }
        LuksHeader h = new LuksHeader(cipherName, cipherMode, hashSpec, payload, keyBytes, digest, digestSalt,
                digestIterations, uuid, List.copyOf(slots));
        h.checkSlots(resource, areaOffset, areaLength);
        return h;
    }

    /** qcrypto_block_luks_check_header's key-slot rules, plus: every slot lies inside the LUKS area. */
    private void checkSlots(String resource, long areaOffset, long areaLength) throws CorruptImageException {
        long headerSectors = (LENGTH + SECTOR_SIZE - 1) / SECTOR_SIZE;
        long len = splitKeySectors();
        for (int i = 0; i < SLOT_COUNT; i++) {
            KeySlot s = slots.get(i);
            if (s.stripes() != STRIPES) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " is corrupted (stripes " + s.stripes() + " != " + STRIPES + ")");
            }
            if (s.active() && s.iterations() == 0) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " is enabled with zero iterations");
            }
            if (s.keyOffsetSector() < headerSectors) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " is overlapping with the LUKS header");
            }
            if (s.keyOffsetSector() + len > payloadOffsetSector) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " is overlapping with the encrypted payload");
            }
            if (s.active() && (s.keyOffsetSector() + len) * SECTOR_SIZE > areaLength) {
                throw corrupt(resource, areaOffset, "Keyslot " + i + " key material (" + (len * SECTOR_SIZE) + " bytes at "
                        + s.keyOffset() + ") lies outside the LUKS area of " + areaLength + " bytes");
            }
            for (int j = i + 1; j < SLOT_COUNT; j++) {
                long other = slots.get(j).keyOffsetSector();
                if (s.keyOffsetSector() < other + len && other < s.keyOffsetSector() + len) {
                    throw corrupt(resource, areaOffset, "Keyslots " + i + " and " + j + " are overlapping in the header");
                }
            }
        }
    }

    /** qcrypto_block_luks_parse_header: the cipher, mode, IV generator and hashes, or qemu's refusal. */
    public Spec spec(String resource) throws UnsupportedFeatureException {
        String modeName = cipherMode;
        String ivName = null;
        String ivHashName = null;
        int dash = cipherMode.indexOf('-');
        if (dash >= 0) {
            modeName = cipherMode.substring(0, dash);
            ivName = cipherMode.substring(dash + 1);
            int colon = ivName.indexOf(':');
            if (colon >= 0) {
                ivHashName = ivName.substring(colon + 1);
                ivName = ivName.substring(0, colon);
            }
        }
        CipherMode mode = CipherMode.byName(modeName).orElseThrow(() ->
                new UnsupportedFeatureException(resource, "Unsupported cipher mode " + cipherMode));
        int cipherKeyBytes = mode == CipherMode.XTS ? keyBytes / 2 : keyBytes;
        CipherAlgorithm cipher = CipherAlgorithm.byLuksName(cipherName, cipherKeyBytes).orElseThrow(() ->
                new UnsupportedFeatureException(resource, "Unsupported cipher " + cipherName + " with key size " + keyBytes));
        if (mode == CipherMode.XTS && (keyBytes % 2 != 0 || cipher.blockSize() != 16)) {
            throw new UnsupportedFeatureException(resource, "Unsupported cipher mode xts");
        }
        IvGenerator iv = IvGenerator.NONE;
        if (ivName != null) {
            String n = ivName;
            iv = IvGenerator.byName(n).orElseThrow(() -> new UnsupportedFeatureException(resource, "Unsupported IV generator " + n));
        }
        HashAlgorithm ivHash = null;
        if (iv == IvGenerator.ESSIV) {
            if (ivHashName == null) throw new UnsupportedFeatureException(resource, "Missing IV generator hash specification");
            String n = ivHashName;
            ivHash = HashAlgorithm.byName(n).orElseThrow(() -> new UnsupportedFeatureException(resource, "Unsupported hash " + n));
            if (cipher.essivCipher(ivHash).isEmpty()) {
                throw new UnsupportedFeatureException(resource, "Unsupported cipher/hash combination " + cipher.qemuName() + "/" + ivHash.qemuName());
            }
        } else if (ivHashName != null) {
            throw new UnsupportedFeatureException(resource, "Hash algorithm for IV generator only allowed with essiv");
        }
        if ((mode == CipherMode.ECB) != (iv == IvGenerator.NONE)) {
            throw new UnsupportedFeatureException(resource, "Unsupported cipher mode " + cipherMode);
        }
        HashAlgorithm hash = HashAlgorithm.byName(hashSpec).orElseThrow(() ->
                new UnsupportedFeatureException(resource, "Unsupported hash " + hashSpec));
        return new Spec(cipher, mode, iv, ivHash, hash);
    }

    /** The header's 592 bytes (qcrypto_block_luks_store_header's layout). */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(LENGTH);
        b.put(MAGIC).putShort((short) 1);
        putString(b, cipherName, 32);
        putString(b, cipherMode, 32);
        putString(b, hashSpec, 32);
        b.putInt((int) payloadOffsetSector).putInt(keyBytes).put(masterKeyDigest).put(masterKeyDigestSalt)
                .putInt((int) masterKeyDigestIterations);
        putString(b, uuid, 40);
        for (KeySlot s : slots) {
            b.putInt(s.active() ? SLOT_ENABLED : SLOT_DISABLED).putInt((int) s.iterations()).put(s.salt())
                    .putInt((int) s.keyOffsetSector()).putInt(s.stripes());
        }
        return b.array();
    }

    public LuksHeader withSlot(int index, KeySlot slot) {
        List<KeySlot> s = new ArrayList<>(slots);
        s.set(index, slot);
        return new LuksHeader(cipherName, cipherMode, hashSpec, payloadOffsetSector, keyBytes, masterKeyDigest,
                masterKeyDigestSalt, masterKeyDigestIterations, uuid, List.copyOf(s));
    }

    private static void putString(ByteBuffer b, String s, int length) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        b.put(bytes, 0, Math.min(bytes.length, length - 1));
        for (int i = Math.min(bytes.length, length - 1); i < length; i++) b.put((byte) 0);
    }

    private static String cString(String resource, long at, ByteBuffer b, int length, String what) throws CorruptImageException {
        byte[] bytes = new byte[length];
        b.get(bytes);
        int end = 0;
        while (end < length && bytes[end] != 0) end++;
        if (end == length) throw corrupt(resource, at, "LUKS header " + what + " is not NUL terminated");
        return new String(bytes, 0, end, StandardCharsets.US_ASCII);
    }

    private static CorruptImageException corrupt(String resource, long at, String message) {
        return new CorruptImageException(resource, "LUKS header", at, null, message);
    }
}
