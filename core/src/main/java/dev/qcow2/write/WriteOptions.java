package dev.qcow2.write;

/**
 * How to open an image for writing.
 *
 * @param backingFormat overrides the backing file format recorded in (or probed from) the image; null = none
 */
public record WriteOptions(String backingFormat) {
    public static WriteOptions defaults() { return new WriteOptions(null); }
}
