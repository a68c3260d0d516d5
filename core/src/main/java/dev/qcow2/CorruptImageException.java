package dev.qcow2;

/**
 * The image breaks a rule of the format. Carries where: the structure ("L2 table"), the file
 * offset of the damaged bytes (or -1) and the raw value read there (or null).
 */
public class CorruptImageException extends Qcow2Exception {
    private final String structure;
    private final long fileOffset;
    private final Long rawValue;

    public CorruptImageException(String resource, String structure, long fileOffset, Long rawValue, String detail) {
        super(resource, describe(structure, fileOffset, rawValue, detail));
        this.structure = structure;
        this.fileOffset = fileOffset;
        this.rawValue = rawValue;
    }

    public CorruptImageException(String resource, String structure, String detail) {
        this(resource, structure, -1, null, detail);
    }

    private static String describe(String structure, long fileOffset, Long rawValue, String detail) {
        StringBuilder sb = new StringBuilder(structure);
        if (fileOffset >= 0) sb.append(" @0x").append(Long.toHexString(fileOffset));
        sb.append(": ").append(detail);
        if (rawValue != null) sb.append(" (raw 0x").append(Long.toHexString(rawValue)).append(')');
        return sb.toString();
    }

    public String structure() { return structure; }
    public long fileOffset() { return fileOffset; }
    public Long rawValue() { return rawValue; }
}
