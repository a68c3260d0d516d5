package dev.qcow2;

import java.io.IOException;

/**
 * Root of the library's checked exceptions. Every message starts with the resource (file name)
 * it concerns, so a command-line tool can print {@code getMessage()} as its one error line.
 */
public class Qcow2Exception extends IOException {
    private final String resource;

    public Qcow2Exception(String resource, String message) {
        super(resource == null ? message : resource + ": " + message);
        this.resource = resource;
    }

    public Qcow2Exception(String resource, String message, Throwable cause) {
        super(resource == null ? message : resource + ": " + message, cause);
        this.resource = resource;
    }

    /** The file (or other storage) the problem is in; may be null. */
    public String resource() { return resource; }
}
