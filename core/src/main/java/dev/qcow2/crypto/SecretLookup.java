package dev.qcow2.crypto;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the secret that unlocks one encrypted layer of a chain, the way qemu-img's options name
 * them: {@code encrypt.key-secret=ID} for the top image, {@code backing.encrypt.key-secret=ID}
 * for its backing file (and so on down), or the {@code encrypt.key-secret} option inside a
 * {@code json:{…}} backing file name recorded in an overlay.
 */
@FunctionalInterface
public interface SecretLookup {

    /**
     * One layer being opened.
     *
     * @param path         the layer's file (null when opened over a bare storage)
     * @param depth        0 for the image named by the user, 1 for its backing file, …
     * @param keySecretId  the secret id the layer's own open options name ({@code encrypt.key-secret}
     *                     from a {@code json:} backing name or from image options), if any
     */
    record Layer(Path path, int depth, Optional<String> keySecretId) { }

    /**
     * The depth of a file named outside the image's chain (rebase's new backing file given as a
     * {@code json:} name with its own {@code encrypt.key-secret}): no {@code [backing.]*} image
     * option applies to it, only the id its name carries, as qemu-img opens it from -b alone.
     */
    int OUTSIDE_CHAIN = -1;

    /** The secret for {@code layer}, or empty when none was given (opening its data then fails as QEMU's does). */
    Optional<Secret> secretFor(Layer layer);

    /** No secrets: encrypted layers open for metadata only. */
    static SecretLookup none() { return layer -> Optional.empty(); }

    /** {@code secret} for the top image only (the DSL's {@code secret:}, a REPL prompt). */
    static SecretLookup topOnly(Secret secret) {
        return layer -> layer.depth() == 0 ? Optional.of(secret) : Optional.empty();
    }

    /**
     * qemu-img's model: secret objects by id, and per depth the id the image options name
     * ({@code [backing.]*encrypt.key-secret}). As in qemu-img, an id given in the image options
     * wins over the one a layer's {@code json:} backing name carries ({@code keySecretId}).
     */
    static SecretLookup byId(Map<String, Secret> objects, Map<Integer, String> idByDepth) {
        return layer -> Optional.ofNullable(idByDepth.get(layer.depth())).or(layer::keySecretId)
                .map(objects::get);
    }
}
