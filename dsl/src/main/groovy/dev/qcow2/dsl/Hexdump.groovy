package dev.qcow2.dsl

import com.fasterxml.jackson.annotation.JsonValue
import groovy.transform.CompileStatic

/**
 * Bytes read from the guest disk or the host file (what {@code read} and {@code cluster}
 * return): {@code bytes} holds them; text is the classic 16-bytes-a-line dump with offsets in
 * the space they were read from; runs of identical lines collapse to "*" (as hexdump(1) and
 * qemu-io do), so a zero cluster is three lines.
 */
@CompileStatic
class Hexdump {
    /** "guest" or "host" (or "guest@snapshot") */
    final String space
    final long offset
    final byte[] bytes

    Hexdump(String space, long offset, byte[] bytes) {
        this.space = space
        this.offset = offset
        this.bytes = bytes
    }

    int size() { bytes.length }

    int getLength() { bytes.length }

    /** Unsigned byte {@code i}: {@code read(0, 512)[510] == 0x55}. */
    int getAt(int i) { bytes[i] & 0xff }

    /** The bytes as ISO-8859-1 text (one char a byte). */
    String asText() { new String(bytes, 'ISO-8859-1') }

    boolean isAllZero() { bytes.every { byte b -> b == 0 as byte } }

    @Override
    String toString() {
        def out = new StringBuilder("$space ${Sizes.hex(offset)} +${bytes.length}\n")
        String prev = null
        boolean starred = false
        for (int at = 0; at < bytes.length; at += 16) {
            int n = Math.min(16, bytes.length - at)
            String body = hexPart(at, n)
            boolean last = at + 16 >= bytes.length
            if (body == prev && !last) {
                if (!starred) out << '*\n'
                starred = true
                continue
            }
            starred = false
            prev = body
            out << String.format('%08x', offset + at) << '  ' << body << '  |' << asciiPart(at, n) << '|\n'
        }
        out.toString()
    }

    private String hexPart(int at, int n) {
        def sb = new StringBuilder()
        for (int i = 0; i < 16; i++) {
            sb << (i < n ? String.format('%02x', bytes[at + i] & 0xff) : '  ')
            sb << (i == 7 ? '  ' : ' ')
        }
        sb.toString().stripTrailing().padRight(48)
    }

    private String asciiPart(int at, int n) {
        def sb = new StringBuilder()
        for (int i = 0; i < n; i++) {
            int c = bytes[at + i] & 0xff
            sb << (c >= 0x20 && c < 0x7f ? (char) c : '.' as char)
        }
        sb.toString()
    }

    String toHtml() { '<pre class="qcow2-hexdump">' + dev.qcow2.view.HtmlRender.esc(toString()) + '</pre>' }

    String toJson() { Json.write(jsonValue()) }

    @JsonValue
    Map<String, Object> jsonValue() {
        [type: 'hexdump', space: space, offset: offset, length: bytes.length, hex: bytes.encodeHex().toString()] as Map<String, Object>
    }
}
