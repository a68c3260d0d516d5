package dev.qcow2.cli

import java.nio.charset.StandardCharsets

/**
 * The one runner of the specs for the qcow2 CLI: runs a command line in-process on streams of
 * its own ({@link Main#run(Streams, String...)}): stdin from a string (empty unless given),
 * stdout and stderr captured. No process stream is swapped, so runs may overlap.
 */
class Cli {
    static class Result {
        int exit
        byte[] outBytes
        String err

        String getOut() { new String(outBytes, StandardCharsets.UTF_8) }

        Object json() { new groovy.json.JsonSlurper().parseText(getOut()) }

        String toString() { "exit=$exit\nstdout=${getOut()}\nstderr=$err" }
    }

    /** Runs {@code args} with {@code input} on stdin. */
    static Result withInput(String input, List<?> args) {
        def out = new ByteArrayOutputStream()
        def err = new ByteArrayOutputStream()
        def streams = new Streams(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        int exit = Main.run(streams, args.collect { it.toString() } as String[])
        new Result(exit: exit, outBytes: out.toByteArray(), err: err.toString(StandardCharsets.UTF_8))
    }

    static Result run(List<?> args) { withInput('', args) }

    static Result run(Object... args) { run(args as List) }
}
