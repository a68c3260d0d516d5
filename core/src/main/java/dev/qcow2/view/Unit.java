package dev.qcow2.view;

/** How a numeric cell is shown; the value itself stays a number (JSON and scripts see it raw). */
public enum Unit {
    /** an offset, a raw word or a bitmap: shown as 0x… */
    HEX,
    /** a byte count: a table shows the number under a "name (bytes)" header, a record adds a human size */
    BYTES,
    /** anything else: toString() */
    PLAIN
}
