package dev.qcow2.crypto;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code qemu-img info} shows of an encrypted image under format-specific "encrypt"
 * (QCryptoBlockInfoLUKS: qcrypto_block_luks_get_info), readable without the key.
 */
public sealed interface LuksDescription {

    /** Legacy AES: only the format. */
    record Aes() implements LuksDescription { }

    /** Key slot as qemu-img lists it: iterations and stripes only for active slots; key offset in bytes. */
    record Slot(boolean active, long iterations, long keyOffset, int stripes) { }

    record Luks(String cipherAlg, String cipherMode, String ivgenAlg, String ivgenHashAlg, String hashAlg,
                String uuid, List<Slot> slots, long payloadOffset, long masterKeyIters) implements LuksDescription { }

    /** The fields in qemu-img's order and names (its JSON; the human form replaces '-' by ' '). */
    default Map<String, Object> qemuFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (this) {
            case Aes a -> m.put("format", "aes");
            case Luks l -> {
                m.put("ivgen-alg", l.ivgenAlg());
                if (l.ivgenHashAlg() != null) m.put("ivgen-hash-alg", l.ivgenHashAlg());
                m.put("hash-alg", l.hashAlg());
                m.put("cipher-alg", l.cipherAlg());
                m.put("uuid", l.uuid());
                m.put("format", "luks");
                m.put("cipher-mode", l.cipherMode());
                List<Map<String, Object>> slots = new ArrayList<>();
                for (Slot s : l.slots()) {
                    Map<String, Object> sm = new LinkedHashMap<>();
                    sm.put("active", s.active());
                    if (s.active()) sm.put("iters", s.iterations());
                    sm.put("key-offset", s.keyOffset());
                    if (s.active()) sm.put("stripes", s.stripes());
                    slots.add(sm);
                }
                m.put("slots", slots);
                m.put("payload-offset", l.payloadOffset());
                m.put("master-key-iters", l.masterKeyIters());
            }
        }
        return m;
    }
}
