package dev.qcow2.scan;

import dev.qcow2.image.FollowPolicy;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ImageScan} does beyond reading the metadata and checking.
 *
 * @param hashAlgorithms  guest-content digests to compute in one pass ({@code sha256}, {@code sha1},
 *                        {@code md5}, in the order given); empty = no hashing
 * @param snapshots       also hash each internal snapshot's guest content (with hashing on)
 * @param followBacking   list the whole backing chain (every layer named and resolved), not only
 *                        the image's own backing file
 * @param allowBacking    where names read from an image may lead besides the image's own directory
 *                        tree ({@code --allow-backing}: directories, or {@code "any"}); see
 *                        {@link FollowPolicy} (strings: the options travel to Spark executors)
 */
public record ScanOptions(List<String> hashAlgorithms, boolean snapshots, boolean followBacking, List<String> allowBacking)
        implements java.io.Serializable {
    /** The digests {@code --hash} accepts, by their command-line names. */
    public static final List<String> ALGORITHMS = List.of("sha256", "sha1", "md5", "sha512");

    public ScanOptions(List<String> hashAlgorithms, boolean snapshots, boolean followBacking) {
        this(hashAlgorithms, snapshots, followBacking, List.of());
    }

    /** The policy for the names inside a scanned image. */
    public FollowPolicy follow() { return FollowPolicy.parse(allowBacking); }

    public ScanOptions {
        allowBacking = allowBacking == null ? List.of() : List.copyOf(allowBacking);
        hashAlgorithms = List.copyOf(hashAlgorithms);
        for (String a : hashAlgorithms) {
            if (!ALGORITHMS.contains(a)) {
                throw new IllegalArgumentException("unknown hash algorithm '" + a + "' (expecting one of " + String.join(", ", ALGORITHMS) + ")");
            }
        }
    }

    public static ScanOptions defaults() { return new ScanOptions(List.of(), false, false); }

    /** {@code "sha256,md5"}: the names, lower-cased, without duplicates; IllegalArgumentException for unknown ones. */
    public static List<String> parseAlgorithms(String commaList) {
        List<String> out = new ArrayList<>();
        for (String part : commaList.split(",")) {
            String a = part.trim().toLowerCase(Locale.ROOT).replace("-", "");
            if (a.isEmpty()) continue;
            if (!ALGORITHMS.contains(a)) {
                throw new IllegalArgumentException("unknown hash algorithm '" + part.trim() + "' (expecting one of " + String.join(", ", ALGORITHMS) + ")");
            }
            if (!out.contains(a)) out.add(a);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no hash algorithm given");
        return out;
    }

    /** The JDK's name of one of {@link #ALGORITHMS}. */
    static MessageDigest digest(String algorithm) {
        String jdk = switch (algorithm) {
            case "sha256" -> "SHA-256";
            case "sha1" -> "SHA-1";
            case "md5" -> "MD5";
            case "sha512" -> "SHA-512";
            default -> throw new IllegalArgumentException("unknown hash algorithm " + algorithm);
        };
        try {
            return MessageDigest.getInstance(jdk);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jdk + " missing from this JDK", e);
        }
    }
}
