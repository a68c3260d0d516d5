package dev.qcow2;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one line every front end (CLI, DSL, REPL, {@code qcow2 run}, notebooks) shows for an
 * exception, never a stack trace:
 * <ul>
 *   <li>the library's own exceptions ({@link Qcow2Exception}: the message starts with the file)
 *       and front-end usage errors ({@link OneLineMessage}): the message as it is;
 *   <li>file-system errors: the file and the system's reason, in qemu-img's words
 *       ({@code Could not open 'x': No such file or directory});
 *   <li>an interrupted read: {@code cancelled}; out of memory, endless recursion: said so;
 *   <li>anything else: its class's simple name and the first line of its message
 *       ({@code ArithmeticException: Division by zero}).
 * </ul>
 * Wrappers that add nothing (UncheckedIOException, ExecutionException, …) are looked through.
 * How to get out of a {@link DirtyImageException} or a pending undo journal depends on the front
 * end's commands: each passes its own {@link Hints}. Plain Java, so the CLI never loads Groovy
 * for its error messages.
 */
public final class ErrorLine {
    /**
     * What a front end appends for the failures its own commands fix (null: nothing).
     *
     * @param allowFollow for a file named inside an image that was not opened
     *                    ({@link dev.qcow2.image.FollowRefusedException}): how to allow it, with
     *                    {@code %s} for the directory ({@code "; allow it with --allow-backing=%s"})
     */
    public record Hints(String dirtyImage, String pendingUndo, String allowFollow) {
        public static final Hints NONE = new Hints(null, null, null);

        public Hints(String dirtyImage, String pendingUndo) { this(dirtyImage, pendingUndo, null); }
    }

    private ErrorLine() { }

    /** The line for {@code t}, without front-end hints. */
    public static String of(Throwable t) { return of(t, Hints.NONE); }

    /** The line for {@code t}, with the front end's hint for a dirty image or a pending undo journal appended. */
    public static String of(Throwable t, Hints hints) {
        // a refused name said as it is, wherever a caller wrapped it
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof dev.qcow2.image.FollowRefusedException f) {
                String line = joined(f.getMessage());
                return hints.allowFollow() == null || f.allowDirectory() == null ? line
                        : line + hints.allowFollow().formatted(f.allowDirectory());
            }
        }
        Throwable e = root(t);
        String line = line(e);
        String hint = switch (e) {
            case DirtyImageException d -> hints.dirtyImage();
            case dev.qcow2.repair.PendingUndoException p -> hints.pendingUndo();
            default -> null;
        };
        return hint == null ? line : line + hint;
    }

    /**
     * The line for an exception known only by its class name and message (as JShell reports
     * what a snippet threw): the message alone when that class's messages are self-explanatory.
     */
    public static String of(String className, String message) {
        Class<?> type = null;
        try {
            if (className != null) type = Class.forName(className, false, ErrorLine.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            // a class of the user's snippets: judged by its name only
        }
        String simple = className == null ? "error" : className.substring(className.lastIndexOf('.') + 1);
        boolean explains = type != null && (Qcow2Exception.class.isAssignableFrom(type) || OneLineMessage.class.isAssignableFrom(type)
                || type == UncheckedIOException.class);
        String text = explains ? joined(message) : firstLine(message);
        if (text.isEmpty()) return simple;
        return explains ? text : simple + ": " + text;
    }

    /**
     * Whether {@code t} is a failure the user can act on (bad input, a damaged image, a missing
     * file, misuse) rather than a bug: the CLI says "internal error" for the others.
     */
    public static boolean isExpected(Throwable t) {
        Throwable e = root(t);
        return e instanceof IOException || e instanceof OneLineMessage || e instanceof OutOfMemoryError
                || e instanceof InterruptedException || e instanceof IllegalArgumentException;
    }

    /** {@code t} without the wrappers that only carry a cause. */
    public static Throwable root(Throwable t) {
        Throwable e = t;
        while (e.getCause() != null && e.getCause() != e && isWrapper(e)) e = e.getCause();
        return e;
    }

    private static boolean isWrapper(Throwable e) {
        return e instanceof UncheckedIOException || e instanceof ExecutionException || e instanceof CompletionException
                || e instanceof InvocationTargetException
                || e.getClass().getName().equals("org.codehaus.groovy.runtime.InvokerInvocationException");
    }

    private static String line(Throwable e) {
        return switch (e) {
            case NoSuchFileException n -> "Could not open '" + n.getFile() + "': No such file or directory";
            case AccessDeniedException a -> "Could not open '" + a.getFile() + "': Permission denied";
            case FileAlreadyExistsException f -> f.getFile() + ": already exists";
            case ClosedByInterruptException c -> "cancelled";
            case FileSystemException f -> f.getFile() + ": " + (f.getReason() == null ? f.getClass().getSimpleName() : f.getReason());
            case InterruptedException i -> "cancelled";
            case InterruptedIOException i -> "cancelled";
            case OutOfMemoryError o -> "out of memory";
            case StackOverflowError s -> "stack overflow (endless recursion?)";
            case Qcow2Exception q -> orName(joined(q.getMessage()), q);
            case OneLineMessage m -> orName(joined(e.getMessage()), e);
            case IOException io -> orName(joined(io.getMessage()), io);
            default -> {
                String first = firstLine(e.getMessage());
                if (e.getClass() == IllegalArgumentException.class && !first.isEmpty()) yield first;
                yield first.isEmpty() ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + first;
            }
        };
    }

    private static String orName(String text, Throwable e) { return text.isEmpty() ? e.getClass().getSimpleName() : text; }

    /** A message the library wrote is all worth reading: its lines joined into one. */
    private static String joined(String message) {
        if (message == null) return "";
        return String.join(" ", message.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }

    /** Someone else's message: its first line (the rest is often a stack of suggestions). */
    private static String firstLine(String message) {
        return message == null ? "" : message.strip().lines().findFirst().orElse("").strip();
    }
}
