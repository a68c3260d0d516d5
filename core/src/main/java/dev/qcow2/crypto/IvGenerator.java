package dev.qcow2.crypto;

import java.util.Optional;

/**
 * IV generators of QEMU's block crypto (QCryptoIVGenAlgorithm, crypto/ivgen-*.c): the IV of a
 * sector from its number. {@code NONE} is ECB's (no IV).
 */
public enum IvGenerator {
    /** Low 32 bits of the sector number, little-endian, zero-padded (ivgen-plain.c). */
    PLAIN("plain"),
    /** The 64-bit sector number, little-endian, zero-padded (ivgen-plain64.c). */
    PLAIN64("plain64"),
    /** The plain64 block encrypted under hash(key) with the matching cipher (ivgen-essiv.c). */
    ESSIV("essiv"),
    NONE("");

    private final String qemuName;

    IvGenerator(String qemuName) { this.qemuName = qemuName; }

    public String qemuName() { return qemuName; }

    public static Optional<IvGenerator> byName(String name) {
        for (IvGenerator g : values()) if (g != NONE && g.qemuName.equals(name)) return Optional.of(g);
        return Optional.empty();
    }
}
