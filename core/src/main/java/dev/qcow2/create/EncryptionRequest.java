package dev.qcow2.create;

import dev.qcow2.crypto.CipherAlgorithm;
import dev.qcow2.crypto.CipherMode;
import dev.qcow2.crypto.HashAlgorithm;
import dev.qcow2.crypto.IvGenerator;
import dev.qcow2.crypto.LuksHeader;

/**
 * The {@code encrypt.*} options of a new image, checked as qcow2_co_create_opts and
 * qcrypto_block_luks_create check them (QEMU 7.2 wording). {@code encryption=on} is the
 * deprecated alias of {@code encrypt.format=aes}.
 *
 * @param luks        LUKS (crypt_method 2) or legacy AES (1)
 * @param keySecretId the secret object holding the passphrase/key
 * @param spec        LUKS cipher, mode, IV generator and hashes (null for AES)
 * @param iterTimeMs  LUKS PBKDF2 time per key slot (default 2000 ms)
 */
public record EncryptionRequest(boolean luks, String keySecretId, LuksHeader.Spec spec, long iterTimeMs) {

    public static final long DEFAULT_ITER_TIME_MS = 2000;

    /** The request, or null when the options ask for no encryption. */
    static EncryptionRequest of(OptionList o) {
        String format = o.get("encrypt.format");
        boolean alias = o.has("encryption") && o.bool("encryption");
        if (format != null && o.has("encryption")) {
            throw new IllegalArgumentException("'encrypt.format' and its alias 'encryption' can't be used at the same time");
        }
        if (format == null && !alias) {
            for (String name : new String[]{"encrypt.key-secret", "encrypt.cipher-alg", "encrypt.cipher-mode", "encrypt.ivgen-alg",
                    "encrypt.ivgen-hash-alg", "encrypt.hash-alg", "encrypt.iter-time"}) {
                if (o.has(name)) throw new IllegalArgumentException("Parameter '" + name + "' is unexpected");
            }
            return null;
        }
        if (alias) format = "aes";
        boolean luks = switch (format) {
            case "luks" -> true;
            case "aes" -> false;
            default -> throw new IllegalArgumentException("Parameter 'format' does not accept value '" + format + "'");
        };
        if (!luks) {
            for (String name : new String[]{"encrypt.cipher-alg", "encrypt.cipher-mode", "encrypt.ivgen-alg",
                    "encrypt.ivgen-hash-alg", "encrypt.hash-alg", "encrypt.iter-time"}) {
                if (o.has(name)) throw new IllegalArgumentException("Parameter '" + name + "' is unexpected");
            }
        }
        LuksHeader.Spec spec = null;
        long iterTime = DEFAULT_ITER_TIME_MS;
        if (luks) {
            CipherAlgorithm cipher = enumOption(o, "encrypt.cipher-alg", "cipher-alg", "aes-256", CipherAlgorithm.byQemuName(o.getOrDefault2("encrypt.cipher-alg", "aes-256")));
            CipherMode mode = enumOption(o, "encrypt.cipher-mode", "cipher-mode", "xts", CipherMode.byName(o.getOrDefault2("encrypt.cipher-mode", "xts")));
            IvGenerator iv = enumOption(o, "encrypt.ivgen-alg", "ivgen-alg", "plain64", IvGenerator.byName(o.getOrDefault2("encrypt.ivgen-alg", "plain64")));
            HashAlgorithm ivHash = null;
            if (o.has("encrypt.ivgen-hash-alg") || iv == IvGenerator.ESSIV) {
                ivHash = enumOption(o, "encrypt.ivgen-hash-alg", "ivgen-hash-alg", "sha256",
                        HashAlgorithm.byName(o.getOrDefault2("encrypt.ivgen-hash-alg", "sha256")));
            }
            HashAlgorithm hash = enumOption(o, "encrypt.hash-alg", "hash-alg", "sha256", HashAlgorithm.byName(o.getOrDefault2("encrypt.hash-alg", "sha256")));
            if (o.has("encrypt.iter-time")) iterTime = OptionList.parseNumber("encrypt.iter-time", o.get("encrypt.iter-time"));
            if (mode == CipherMode.XTS && cipher.blockSize() != 16) throw new IllegalArgumentException("Unsupported cipher mode xts");
            if (iv == IvGenerator.ESSIV && cipher.essivCipher(ivHash).isEmpty()) {
                String family = switch (cipher.luksName()) {
                    case "aes" -> "AES";
                    case "serpent" -> "Serpent";
                    case "twofish" -> "Twofish";
                    default -> null;
                };
                if (family == null) throw new IllegalArgumentException("Cipher " + cipher.qemuName() + " not supported with essiv");
                throw new IllegalArgumentException("No " + family + " cipher with key size " + ivHash.digestLength() + " available");
            }
            if (iv != IvGenerator.ESSIV) ivHash = null;
            spec = new LuksHeader.Spec(cipher, mode, iv, ivHash, hash);
        }
        return new EncryptionRequest(luks, o.get("encrypt.key-secret"), spec, iterTime);
    }

    private static <T> T enumOption(OptionList o, String option, String qapiName, String def, java.util.Optional<T> value) {
        return value.orElseThrow(() -> new IllegalArgumentException("Parameter '" + qapiName + "' does not accept value '"
                + o.getOrDefault2(option, def) + "'"));
    }
}
