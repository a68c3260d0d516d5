package dev.qcow2.image;

import dev.qcow2.crypto.SecretLookup;

import java.util.Optional;

/**
 * The secret lookup a backing layer is opened with: the chain's lookup seen one layer down
 * (depth 0 of the backing file is depth 1 of the chain, as qemu-img's
 * {@code backing.encrypt.key-secret} names it), with the {@code encrypt.key-secret} of the
 * overlay's {@code json:} backing name as that layer's own id.
 */
public final class LayerSecrets {
    private LayerSecrets() { }

    public static SecretLookup below(SecretLookup chain, Optional<String> backingKeySecretId) {
        return layer -> {
            Optional<String> id = layer.depth() == 0 && layer.keySecretId().isEmpty() ? backingKeySecretId : layer.keySecretId();
            return chain.secretFor(new SecretLookup.Layer(layer.path(), layer.depth() + 1, id));
        };
    }

    /** {@code chain} seen {@code depth} layers down, without ids from backing names (what a writer of that layer is opened with). */
    public static SecretLookup at(SecretLookup chain, int depth, Optional<String> keySecretId) {
        SecretLookup out = chain;
        for (int i = 0; i < depth; i++) out = below(out, i == depth - 1 ? keySecretId : Optional.empty());
        return out;
    }
}
