package dev.qcow2;

/**
 * An image whose dirty bit is set (qcow2.rst "incompatible features" bit 0: lazy refcounts left
 * the refcounts out of date) was asked to be written: QEMU repairs the refcounts on open
 * (qcow2_do_open calls qcow2_check with BDRV_FIX_ERRORS | BDRV_FIX_LEAKS); this library refuses
 * instead and leaves the repair to the user. The message names no front end: the CLI, DSL and
 * notebooks each add how to repair with their own command.
 */
public final class DirtyImageException extends Qcow2Exception {
    public DirtyImageException(String resource) {
        super(resource, "image is dirty (lazy refcounts)");
    }
}
