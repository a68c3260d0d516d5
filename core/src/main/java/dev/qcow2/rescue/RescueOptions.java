package dev.qcow2.rescue;

import dev.qcow2.crypto.Secret;
import dev.qcow2.image.FollowPolicy;

import java.nio.file.Path;

/**
 * What a rescue may use besides the damaged file.
 *
 * @param secret            the passphrase of an encrypted image (LUKS or legacy AES), or null;
 *                          the caller keeps ownership (the rescue copies what it needs)
 * @param dataFile          the image's external data file, or null (then the name in a surviving
 *                          header, if {@code follow} lets it be opened)
 * @param backing           the intact base of a damaged overlay, or null (then the backing name
 *                          in a surviving header, if {@code follow} lets it be opened)
 * @param backingFormat     the base's format (qcow2, raw), or null to probe
 * @param follow            which file names read from the damaged header (backing file, data
 *                          file, and the names inside a given base) may be opened: the open gate
 *                          of every other command ({@link FollowPolicy}, anchored at DAMAGED)
 */
public record RescueOptions(Secret secret, Path dataFile, Path backing, String backingFormat, FollowPolicy follow) {
    public RescueOptions {
        if (follow == null) follow = FollowPolicy.imageTree();
    }

    public static RescueOptions none() { return new RescueOptions(null, null, null, null, FollowPolicy.none()); }
}
