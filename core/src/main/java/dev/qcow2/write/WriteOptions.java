package dev.qcow2.write;

import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.storage.WritableOpener;

/**
 * How to open an image for writing.
 *
 * @param backingFormat overrides the backing file format recorded in (or probed from) the image; null = none
 * @param secrets       where the secrets of encrypted layers come from (never null)
 * @param follow        which backing files named inside the image (and its chain) may be opened
 *                      ({@link FollowPolicy}; default: inside the image's directory tree)
 * @param opener        how a file named by path is opened for writing (never null; the file itself by default)
 */
public record WriteOptions(String backingFormat, SecretLookup secrets, FollowPolicy follow, WritableOpener opener) {
    public WriteOptions {
        if (secrets == null) secrets = SecretLookup.none();
        if (follow == null) follow = FollowPolicy.imageTree();
        if (opener == null) opener = WritableOpener.FILES;
    }

    public WriteOptions(String backingFormat, SecretLookup secrets) { this(backingFormat, secrets, null, null); }

    public WriteOptions(String backingFormat) { this(backingFormat, SecretLookup.none()); }

    public static WriteOptions defaults() { return new WriteOptions(null); }

    public WriteOptions withSecrets(SecretLookup lookup) { return new WriteOptions(backingFormat, lookup, follow, opener); }

    public WriteOptions withFollow(FollowPolicy policy) { return new WriteOptions(backingFormat, secrets, policy, opener); }

    public WriteOptions withOpener(WritableOpener o) { return new WriteOptions(backingFormat, secrets, follow, o); }
}
