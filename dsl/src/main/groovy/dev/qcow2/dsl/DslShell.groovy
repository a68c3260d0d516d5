package dev.qcow2.dsl

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.customizers.ASTTransformationCustomizer
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.codehaus.groovy.control.messages.SyntaxErrorMessage
import org.codehaus.groovy.syntax.SyntaxException

import groovy.transform.ThreadInterrupt
import org.codehaus.groovy.runtime.GroovyCategorySupport

import java.nio.file.Files
import java.nio.file.Path

/**
 * Evaluates DSL text against one {@link Session} and one {@link Binding}, so consecutive
 * evaluations share the open image and the variables a user assigns ({@code x = walk l2}).
 * This is the engine the REPL, notebooks and {@code qcow2 run} use:
 * <pre>
 * def shell = new DslShell()
 * def value = shell.evaluate("open 'disk.qcow2'; walk(l2).findAll { it.compressed }")
 * println value                  // aligned text; value.toHtml() / value.toJson() for the others
 * </pre>
 * Every failure comes out as a {@link DslException} with one line to show: misuse, image
 * errors, syntax errors, unknown names; never a stack trace. Names resolve as
 * {@link SessionScript} says: the user's variables win over commands of the same name, and
 * commands with effects run only when called. {@link #complete} offers what can follow the
 * cursor ({@link Completions}); {@code help} lists every word with where it applies.
 */
class DslShell implements Closeable {
    final Session session
    final Binding binding
    private final GroovyShell shell

    /** The front end this shell serves (its own words are offered in completion); null: none. */
    FrontEnd frontEnd

    DslShell(Session session = new Session(), Binding binding = new Binding()) {
        this.session = session
        this.binding = binding
        def config = new CompilerConfiguration()
        config.scriptBaseClass = SessionScript.name
        config.addCompilationCustomizers(new ImportCustomizer()
                .addStarImports('dev.qcow2.dsl')
                .addImports('dev.qcow2.repair.RepairMode'))
        // loops and closures check Thread.interrupted(): the REPL's Ctrl-C stops a runaway loop
        config.addCompilationCustomizers(new ASTTransformationCustomizer(ThreadInterrupt))
        this.shell = new GroovyShell(DslShell.classLoader, binding, config)
    }

    /** Evaluates {@code code}; returns the value of its last statement. */
    Object evaluate(String code, String name = 'dsl') {
        try {
            BareSizes.check(code)
            SessionScript script = compile(code, name)
            script.setSession(session)
            return runScript(script)
        } catch (DslException e) {
            // a passphrase written in the code (secret: '…') never reaches an error line
            String line = SecretRedaction.inMessage(e.message, code)
            if (line == e.message) throw e
            throw new DslException(line)
        }
    }

    /** Runs a script file with {@code args} bound (as {@code qcow2 run SCRIPT ARGS} will). */
    Object run(Path file, List<String> args = []) {
        String code
        try {
            code = Files.readString(file)
        } catch (IOException e) {
            throw new DslException(Guard.line(e), e)
        }
        binding.setVariable('args', args as String[])
        evaluate(code, file.fileName.toString().replaceAll(/\W/, '_'))
    }

    /** Whether {@code code} is a whole input, needs more lines (an open brace or bracket), or is wrong. */
    Completeness completeness(String code) {
        try {
            shell.parse(code)
            return Completeness.COMPLETE
        } catch (MultipleCompilationErrorsException e) {
            def msg = e.errorCollector.errors.find { it instanceof SyntaxErrorMessage } as SyntaxErrorMessage
            if (msg == null) return Completeness.COMPLETE     // parses: evaluation reports the rest
            return atEnd(code, msg.cause) ? Completeness.INCOMPLETE : Completeness.INVALID
        }
    }

    /** The parser stopped at (or past) the end of the input: something is still open. */
    private static boolean atEnd(String code, SyntaxException c) {
        List<String> lines = code.readLines()
        if (code.endsWith('\n') || lines.isEmpty()) lines << ''
        c.originalMessage?.contains('<EOF>') || c.line > lines.size() || (c.line == lines.size() && c.startColumn > lines[-1].length())
    }

    enum Completeness { COMPLETE, INCOMPLETE, INVALID }

    /** What can replace the word before {@code cursor} in {@code code}: commands, variables, members, snapshot and file names. */
    Completions complete(String code, int cursor) { Completions.of(this, code, cursor) }

    /** The one line to show for anything an evaluation threw (the same in every front end). */
    static String errorLine(Throwable t) { Guard.line(t) }

    private SessionScript compile(String code, String name) {
        try {
            return (SessionScript) shell.parse(code, name + '.groovy')
        } catch (MultipleCompilationErrorsException e) {
            def first = e.errorCollector.errors[0]
            if (first instanceof SyntaxErrorMessage) {
                def c = ((SyntaxErrorMessage) first).cause
                if (atEnd(code, c)) throw new DslException("syntax error: the input ends inside a bracket, brace or string (line ${c.line})")
                String text = c.originalMessage?.readLines()?.find() ?: c.message
                throw new DslException("syntax error at line ${c.line}, column ${c.startColumn}: $text")
            }
            throw new DslException("syntax error: ${e.message.readLines().find { it && !it.startsWith('startup failed') }}")
        }
    }

    private Object runScript(SessionScript script) {
        try {
            // 64.KiB, 1.5.MiB: sizes as numbers with a unit, for this evaluation (see SizeUnits)
            return GroovyCategorySupport.use(SizeUnits) { script.run() }
        } catch (DslException e) {
            throw e
        } catch (MissingPropertyException e) {
            throw new DslException("unknown name '${e.property}'" + (e.type in [Session, script.getClass()] ? ' — type help for the commands' : " on ${e.type.simpleName}"))
        } catch (MissingMethodException e) {
            throw new DslException(missingMethod(e))
        } catch (IOException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw new DslException(Guard.line(e), e)
        }
    }

    private static String missingMethod(MissingMethodException e) {
        String args = e.arguments.collect { it == null ? 'null' : it.getClass().simpleName }.join(', ')
        String usage = Help.usage(e.method)
        if (usage != null) return "wrong arguments for ${e.method}($args); use: $usage"
        "unknown command ${e.method}($args)" + (e.type in [Session] || SessionScript.isAssignableFrom(e.type) ? ' — type help for the commands' : " on ${e.type.simpleName}")
    }

    @Override void close() { session.close() }
}
