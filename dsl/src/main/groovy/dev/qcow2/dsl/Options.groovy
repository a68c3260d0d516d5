package dev.qcow2.dsl

/** Named-argument checks: an unknown option is a one-line error naming the known ones. */
final class Options {
    private Options() { }

    static void check(Map options, String command, List<String> known) {
        def unknown = options.keySet() - known
        if (unknown) throw new DslException("$command: unknown option ${unknown.join(', ')}; known: ${known.join(', ')}")
    }
}
