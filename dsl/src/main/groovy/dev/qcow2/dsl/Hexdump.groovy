package dev.qcow2.dsl

import com.fasterxml.jackson.annotation.JsonValue
import dev.qcow2.view.HexdumpView
import dev.qcow2.view.HtmlRender
import dev.qcow2.view.JsonShape
import dev.qcow2.view.TextRender
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

    /** The core's view of these bytes, which every front end renders. */
    HexdumpView toView() { new HexdumpView(space, offset, bytes) }

    @Override
    String toString() { TextRender.hexdump(toView()) }

    String toHtml() { HtmlRender.hexdump(toView()) }

    String toJson() { Json.write(jsonValue()) }

    @JsonValue
    Map<String, Object> jsonValue() { JsonShape.hexdump(toView()) }
}
