package dev.qcow2.crypto;

import java.util.Optional;

/** Block cipher modes of QEMU's LUKS driver (QCryptoCipherMode), by their LUKS/qemu name. */
public enum CipherMode {
    ECB("ecb"), CBC("cbc"), XTS("xts"), CTR("ctr");

    private final String qemuName;

    CipherMode(String qemuName) { this.qemuName = qemuName; }

    public String qemuName() { return qemuName; }

    public static Optional<CipherMode> byName(String name) {
        for (CipherMode m : values()) if (m.qemuName.equals(name)) return Optional.of(m);
        return Optional.empty();
    }
}
