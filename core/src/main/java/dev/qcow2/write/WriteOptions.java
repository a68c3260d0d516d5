package dev.qcow2.write;

import dev.qcow2.crypto.SecretLookup;

/**
 * How to open an image for writing.
 *
 * @param backingFormat overrides the backing file format recorded in (or probed from) the image; null = none
 * @param secrets       where the secrets of encrypted layers come from (never null)
 */
public record WriteOptions(String backingFormat, SecretLookup secrets) {
    public WriteOptions {
        if (secrets == null) secrets = SecretLookup.none();
    }

    public WriteOptions(String backingFormat) { this(backingFormat, SecretLookup.none()); }

    public static WriteOptions defaults() { return new WriteOptions(null); }

    public WriteOptions withSecrets(SecretLookup lookup) { return new WriteOptions(backingFormat, lookup); }
}
