package dev.qcow2.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;

/**
 * JSON printed the way qemu-img prints QAPI objects (qobject_to_json_pretty): four-space
 * indentation, {@code "key": value}, one member per line, a newline at the end.
 */
public final class QemuJson {
    private QemuJson() { }

    public static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private static final class QemuPrettyPrinter extends DefaultPrettyPrinter {
        QemuPrettyPrinter() {
            DefaultIndenter indenter = new DefaultIndenter("    ", "\n");
            indentObjectsWith(indenter);
            indentArraysWith(indenter);
            _objectFieldValueSeparatorWithSpaces = ": ";
        }

        QemuPrettyPrinter(QemuPrettyPrinter base) { super(base); }

        @Override
        public DefaultPrettyPrinter createInstance() { return new QemuPrettyPrinter(this); }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeEndArray(JsonGenerator g, int nrOfValues) throws IOException {
            // QEMU prints an empty list as "[]"
            if (nrOfValues == 0) {
                if (!_arrayIndenter.isInline()) --_nesting;   // keep the indentation of what follows
                g.writeRaw(']');
                return;
            }
            super.writeEndArray(g, nrOfValues);
        }

        @Override
        public void writeEndObject(JsonGenerator g, int nrOfEntries) throws IOException {
            if (nrOfEntries == 0) {
                if (!_objectIndenter.isInline()) --_nesting;
                g.writeRaw('}');
                return;
            }
            super.writeEndObject(g, nrOfEntries);
        }
    }

    /** Pretty-printed like qemu-img, with a trailing newline. */
    public static String pretty(Object value) {
        try {
            return MAPPER.writer(new QemuPrettyPrinter()).writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
