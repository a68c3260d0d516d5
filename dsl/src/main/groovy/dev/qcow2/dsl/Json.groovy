package dev.qcow2.dsl

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.SerializationFeature
import groovy.transform.CompileStatic

/** The one Jackson mapper of the DSL: pretty JSON, byte arrays as base64 (Jackson's default). */
@CompileStatic
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)

    private Json() { }

    static String write(Object value) { MAPPER.writeValueAsString(value) }

    static ObjectMapper mapper() { MAPPER }
}
