package dev.qcow2;

/**
 * A size read from the image exceeds the format's limits, the file's size, or a resource cap;
 * thrown before anything of that size is allocated.
 */
public class ImageLimitException extends Qcow2Exception {
    public ImageLimitException(String resource, String message) {
        super(resource, message);
    }
}
