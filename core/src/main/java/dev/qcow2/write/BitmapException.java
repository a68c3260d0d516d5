package dev.qcow2.write;

import dev.qcow2.Qcow2Exception;

/** A bitmap operation refused with QEMU's words; {@link #detail()} is the message without the file name. */
public final class BitmapException extends Qcow2Exception {
    private final String detail;

    public BitmapException(String resource, String detail) {
        super(resource, detail);
        this.detail = detail;
    }

    /** QEMU's message alone, for front ends that prefix it as qemu-img does ("Operation add on bitmap b0 failed: ..."). */
    public String detail() { return detail; }
}
