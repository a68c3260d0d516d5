package dev.qcow2.view;

/**
 * Bytes read from a guest disk or a host file, with where they came from: the third kind of view
 * beside tables and records (the DSL's {@code read} and {@code cluster}). Text is the classic
 * 16-bytes-a-line dump ({@link TextRender#hexdump}), JSON type {@code "hexdump"} with the bytes
 * as one hex string ({@link JsonShape#hexdump}).
 *
 * @param space  "guest", "guest@SNAPSHOT" or "host": the space {@code offset} is in
 */
public record HexdumpView(String space, long offset, byte[] bytes) {
    public static final String TYPE = "hexdump";
}
