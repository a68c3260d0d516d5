package dev.qcow2.notebook;

import java.util.Set;

/** One line for an exception a cell raised: the message alone when it already says everything. */
final class Errors {
    /** Their messages name the file and the problem (DSL misuse, image errors), so no class name in front. */
    private static final Set<String> SELF_EXPLANATORY = Set.of("dev.qcow2.dsl.DslException", "dev.qcow2.Qcow2Exception",
            "dev.qcow2.CorruptImageException", "dev.qcow2.UnsupportedFeatureException", "dev.qcow2.ImageLimitException",
            "dev.qcow2.notebook.CellException", "java.io.UncheckedIOException");

    private Errors() { }

    static String brief(String className, String message) {
        String first = message == null ? "" : message.strip().lines().findFirst().orElse("");
        if (SELF_EXPLANATORY.contains(className) && !first.isEmpty()) return first;
        String simple = className == null ? "error" : className.substring(className.lastIndexOf('.') + 1);
        return first.isEmpty() ? simple : simple + ": " + first;
    }

    static String brief(Throwable t) {
        return brief(t.getClass().getName(), t.getMessage());
    }
}
