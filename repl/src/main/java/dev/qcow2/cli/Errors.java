package dev.qcow2.cli;

import dev.qcow2.ErrorLine;
import dev.qcow2.OneLineMessage;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Turns every failure into one line on stderr and exit status 1 (qemu-img's convention):
 * {@code qcow2: FILE: what is wrong}. Library exceptions already name their file.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    static final int EXIT_ERROR = 1;
    private final boolean debug;

    Errors(boolean debug) { this.debug = debug; }

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (e instanceof SecretObjectParser.HelpRequested help) {
            // --object help: qemu-img prints the list and exits 0
            cmd.getOut().print(help.text);
            cmd.getOut().flush();
            return 0;
        }
        PrintWriter err = cmd.getErr();
        err.println("qcow2: " + redacted(describe(e)));
        if (debug) e.printStackTrace(err);
        err.flush();
        return EXIT_ERROR;
    }

    /** The CLI's commands for getting out of a dirty image or a pending undo journal. */
    static final ErrorLine.Hints HINTS = new ErrorLine.Hints("; run `qcow2 check -r all` first", " (qcow2 undo IMAGE)",
            "; allow it with --allow-backing=%s");

    /** One line for any exception ({@link ErrorLine}); what is not the user's to fix is an internal error. */
    static String describe(Throwable e) {
        String line = ErrorLine.of(e, HINTS);
        return ErrorLine.isExpected(e) ? line : "internal error: " + line;
    }

    static int parameterError(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("qcow2: " + redacted(e.getMessage()));
        err.println("Try 'qcow2 " + (e.getCommandLine().getCommandName().equals("qcow2") ? "" : e.getCommandLine().getCommandName() + " ")
                + "--help' for more information.");
        err.flush();
        return EXIT_ERROR;
    }

    /**
     * {@code message} with the value of every {@code data=} (an {@code --object} secret picocli
     * may quote, e.g. as an unknown argument) replaced: a secret never reaches the terminal.
     */
    static String redacted(String message) {
        return message == null ? null : message.replaceAll("(?<=data=)(?:[^,']|,,)*", "<redacted>")
                .replaceAll("(?<=\"data\":)\\s*\"(?:[^\"\\\\]|\\\\.)*\"", "\"<redacted>\"");
    }

    /** The value of a finished task, with the task's own exception rethrown as is. */
    static <T> T unwrap(java.util.concurrent.Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) throw ex;
            if (c instanceof Error err) throw err;
            throw e;
        }
    }

    /** A usage or input problem the command detected itself; its message is the whole line. */
    static final class CliException extends RuntimeException implements OneLineMessage {
        CliException(String message) { super(message); }
    }
}
