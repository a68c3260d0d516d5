package dev.qcow2.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

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
        PrintWriter err = cmd.getErr();
        err.println("qcow2: " + describe(e));
        if (debug) e.printStackTrace(err);
        err.flush();
        return EXIT_ERROR;
    }

    /** One line for any exception: the library's message, or the file and the system's reason. */
    static String describe(Throwable e) {
        if (e instanceof NoSuchFileException n) return "Could not open '" + n.getFile() + "': No such file or directory";
        if (e instanceof AccessDeniedException a) return "Could not open '" + a.getFile() + "': Permission denied";
        if (e instanceof OutOfMemoryError) return "out of memory";
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) msg = e.getClass().getSimpleName();
        if (e instanceof dev.qcow2.DirtyImageException) return msg + "; run `qcow2 check -r all` first";
        if (e instanceof dev.qcow2.repair.PendingUndoException) return msg + " (qcow2 undo IMAGE)";
        if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof CliException) {
            return msg.replace('\n', ' ');
        }
        return "internal error: " + e.getClass().getSimpleName() + ": " + msg.replace('\n', ' ');
    }

    static int parameterError(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("qcow2: " + e.getMessage());
        err.println("Try 'qcow2 " + (e.getCommandLine().getCommandName().equals("qcow2") ? "" : e.getCommandLine().getCommandName() + " ")
                + "--help' for more information.");
        err.flush();
        return EXIT_ERROR;
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
    static final class CliException extends RuntimeException {
        CliException(String message) { super(message); }
    }
}
