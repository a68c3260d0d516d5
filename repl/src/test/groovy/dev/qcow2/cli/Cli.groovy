package dev.qcow2.cli

import java.nio.charset.StandardCharsets

/** Runs the qcow2 CLI in-process, capturing stdout and stderr. Not thread-safe (swaps System.out/err). */
class Cli {
    static class Result {
        int exit
        byte[] outBytes
        String err

        String getOut() { new String(outBytes, StandardCharsets.UTF_8) }

        Object json() { new groovy.json.JsonSlurper().parseText(getOut()) }

        String toString() { "exit=$exit\nstdout=${getOut()}\nstderr=$err" }
    }

    static synchronized Result run(List<?> args) {
        def out = new ByteArrayOutputStream()
        def err = new ByteArrayOutputStream()
        PrintStream oldOut = System.out
        PrintStream oldErr = System.err
        System.out = new PrintStream(out, true, 'UTF-8')
        System.err = new PrintStream(err, true, 'UTF-8')
        int exit
        try {
            exit = Main.run(args.collect { it.toString() } as String[])
        } finally {
            System.out.flush()
            System.err.flush()
            System.out = oldOut
            System.err = oldErr
        }
        new Result(exit: exit, outBytes: out.toByteArray(), err: err.toString('UTF-8'))
    }

    static Result run(Object... args) { run(args as List) }
}

