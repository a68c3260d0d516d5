package dev.qcow2;

/**
 * The image uses something this library cannot do (unknown incompatible feature bits, an
 * encryption key that was not given, ...). Not a corruption: the image may be fine.
 */
public class UnsupportedFeatureException extends Qcow2Exception {
    private final long incompatibleBits;

    public UnsupportedFeatureException(String resource, String message, long incompatibleBits) {
        super(resource, message);
        this.incompatibleBits = incompatibleBits;
    }

    public UnsupportedFeatureException(String resource, String message) {
        this(resource, message, 0);
    }

    /** The unknown incompatible feature bits, when that is the reason; else 0. */
    public long incompatibleBits() { return incompatibleBits; }
}
