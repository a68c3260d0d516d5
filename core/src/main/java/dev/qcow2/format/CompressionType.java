package dev.qcow2.format;

/** Header byte 104. */
public enum CompressionType {
    ZLIB, ZSTD;

    public static CompressionType of(int headerValue) { return headerValue == 1 ? ZSTD : ZLIB; }

    public String qemuName() { return this == ZSTD ? "zstd" : "zlib"; }
}
