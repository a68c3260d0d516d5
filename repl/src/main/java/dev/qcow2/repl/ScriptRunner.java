package dev.qcow2.repl;

import dev.qcow2.dsl.DslException;
import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.FrontEnd;
import groovy.lang.Closure;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code qcow2 run SCRIPT [ARGS...]}: runs a DSL script with {@code args} bound to ARGS.
 * <p>Exit status: {@code exit N} anywhere in the script stops it with status N; otherwise a
 * script whose last value is an integer exits with it (so {@code check.exit_code} as the last
 * line passes check's status on); any other last value means 0. A failure ({@code fail 'msg'},
 * a DSL error, an exception) prints {@code qcow2: SCRIPT: message} on stderr and exits 1.
 */
public final class ScriptRunner {
    /** Thrown by {@code exit N}: an Error, so that no catch (RuntimeException) in between swallows it. */
    static final class ExitRequest extends Error {
        final int status;

        ExitRequest(int status) {
            super(null, null, false, false);
            this.status = status;
        }
    }

    /** {@code exit N} / {@code exit}. */
    public static final class ExitClosure extends Closure<Object> {
        ExitClosure() { super(null); }

        public Object doCall(Object status) {
            if (!(status instanceof Number n)) throw new DslException("exit takes a number, not '" + status + "'");
            throw new ExitRequest(n.intValue());
        }

        public Object doCall() { throw new ExitRequest(0); }
    }

    private ScriptRunner() { }

    /**
     * Runs {@code script}; what it prints ({@code println}, bound as Groovy's {@code out}) goes to
     * {@code out}, the failure line to {@code err}. Returns the exit status.
     */
    public static int run(Path script, List<String> args, PrintStream out, PrintStream err) {
        return run(script, args, out, err, dev.qcow2.image.FollowPolicy.imageTree());
    }

    /** {@link #run(Path, List, PrintStream, PrintStream)}; the script's opens without {@code follow:} use {@code follow}. */
    public static int run(Path script, List<String> args, PrintStream out, PrintStream err, dev.qcow2.image.FollowPolicy follow) {
        String name = script.getFileName() == null ? script.toString() : script.getFileName().toString();
        if (!Files.isRegularFile(script)) {
            err.println("qcow2: " + script + ": no such script");
            return 1;
        }
        try (DslShell shell = new DslShell()) {
            shell.setFrontEnd(FrontEnd.RUN);
            shell.getSession().setDefaultFollow(follow);
            shell.getBinding().setVariable("exit", new ExitClosure());
            shell.getBinding().setVariable("out", out);
            Object last = shell.run(script, args);
            out.flush();
            return last instanceof Integer || last instanceof Short || last instanceof Byte ? ((Number) last).intValue() : 0;
        } catch (ExitRequest e) {
            out.flush();
            return e.status;
        } catch (Throwable e) {
            out.flush();
            err.println("qcow2: " + name + ": " + DslShell.errorLine(e));
            err.flush();
            return 1;
        }
    }
}
