package dev.qcow2.image;

import dev.qcow2.crypto.Secret;
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

    /** A lookup one layer down; it also tells which secret id a layer ends up asking for (for error messages). */
    record Below(SecretLookup chain, Optional<String> backingKeySecretId) implements SecretLookup {
        @Override public Optional<Secret> secretFor(Layer layer) { return chain.secretFor(inChain(layer)); }

        private Layer inChain(Layer layer) {
            Optional<String> id = layer.depth() == 0 && layer.keySecretId().isEmpty() ? backingKeySecretId : layer.keySecretId();
            return new Layer(layer.path(), layer.depth() + 1, id);
        }
    }

    public static SecretLookup below(SecretLookup chain, Optional<String> backingKeySecretId) {
        return new Below(chain, backingKeySecretId);
    }

    /** {@code chain} seen {@code depth} layers down; {@code keySecretId} is the json: id of that layer's name (what a writer of it is opened with). */
    public static SecretLookup at(SecretLookup chain, int depth, Optional<String> keySecretId) {
        SecretLookup out = chain;
        for (int i = 0; i < depth; i++) out = below(out, i == depth - 1 ? keySecretId : Optional.empty());
        return out;
    }

    /** The secret id {@code layer} is asked for in the outermost lookup (its own, or one a json: backing name gave it). */
    static Optional<String> keySecretId(SecretLookup lookup, SecretLookup.Layer layer) {
        while (lookup instanceof Below b) {
            layer = b.inChain(layer);
            lookup = b.chain();
        }
        return layer.keySecretId();
    }
}
