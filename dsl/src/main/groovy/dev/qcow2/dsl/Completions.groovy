package dev.qcow2.dsl

import groovy.transform.CompileStatic

import java.nio.file.DirectoryStream
import java.nio.file.Files
import java.nio.file.Path
import java.util.regex.Matcher
import java.util.regex.Pattern

/**
 * Completion for every front end (the REPL's Tab, a notebook's %%dsl cells), derived from the
 * engine itself rather than from word lists:
 * <ul>
 *   <li>a word: the engine's commands ({@link Words}), the words of this front end
 *       ({@link Help}, {@link FrontEnd}) and the session's variables;
 *   <li>{@code a.b.}: the public members ({@link Words#members}) of what {@code a.b} is — the
 *       result type of a command ({@code refcounts.} → Refcounts: leaks, mismatches, …;
 *       {@code refcounts.leaks.} → Table), or a variable's value (a record's fields, a class's
 *       static methods, any other value's members);
 *   <li>inside quotes after {@code snapshot(}, {@code snapshot.diff/apply/delete} or {@code from:}:
 *       the open image's snapshot names; inside other quotes: file paths.
 * </ul>
 * Never evaluates DSL code: a completion is instant and changes nothing.
 */
@CompileStatic
final class Completions {
    /** One candidate: {@code value} replaces the text from {@link #start} to {@link #end}. */
    static final class Candidate {
        final String value, display, group
        /** A whole word: a front end may add a space after it. */
        final boolean complete

        Candidate(String value, String display, String group, boolean complete) {
            this.value = value
            this.display = display
            this.group = group
            this.complete = complete
        }

        String toString() { value }
    }

    /** The word before the cursor: where it starts, and the open quote character (0 outside a string). */
    static final class Word {
        final String code, word
        final int start, cursor
        final char quote

        Word(String code, int start, int cursor, char quote) {
            this.code = code
            this.start = start
            this.cursor = cursor
            this.quote = quote
            this.word = code.substring(start, cursor)
        }

        String getBefore() { code.substring(0, start) }

        boolean isInString() { quote != (char) 0 }
    }

    private static final String DELIMITERS = " \t\n(),[]{};=+<>!&|*/%'\""
    private static final Pattern SNAPSHOT_CONTEXT =
            Pattern.compile(".*(snapshot\\s*\\(\\s*|snapshot\\.(diff|apply|delete)\\s*\\(?\\s*([\"'][^\"']*[\"']\\s*,\\s*)?|from:\\s*)\$", Pattern.DOTALL)
    private static final Pattern DOTTED = Pattern.compile('([A-Za-z_][A-Za-z_0-9]*(?:\\.[A-Za-z_][A-Za-z_0-9]*)*)\\.([A-Za-z_0-9]*)')

    final int start, end
    final List<Candidate> candidates

    private Completions(int start, int end, List<Candidate> candidates) {
        this.start = start
        this.end = end
        this.candidates = candidates.asImmutable()
    }

    /** Just the values (what the specs compare). */
    List<String> getValues() { candidates*.value }

    /** The word before {@code cursor}: from the last delimiter, or from the opening quote inside a string. */
    static Word wordAt(String code, int cursor) {
        char quote = 0
        int quoteStart = -1
        for (int i = 0; i < cursor; i++) {
            char c = code.charAt(i)
            if (quote != (char) 0) {
                if (c == ('\\' as char)) i++
                else if (c == quote) quote = 0
            } else if (c == ('\'' as char) || c == ('"' as char)) {
                quote = c
                quoteStart = i
            }
        }
        int start = cursor
        if (quote != (char) 0) {
            start = quoteStart + 1
        } else {
            while (start > 0 && DELIMITERS.indexOf((int) code.charAt(start - 1)) < 0) start--
        }
        new Word(code, start, cursor, quote)
    }

    /** The candidates for the word before {@code cursor} in {@code code}, in {@code shell}'s session. */
    static Completions of(DslShell shell, String code, int cursor) {
        Word w = wordAt(code, cursor)
        List<Candidate> out = []
        if (w.inString) {
            String before = w.before.substring(0, w.before.length() - 1)
            if (SNAPSHOT_CONTEXT.matcher(before).matches()) snapshots(shell, out)
            else files(w.word, out)
        } else if (w.word.startsWith(':')) {
            if (w.before.isBlank()) {
                for (Help.Entry e : Help.wordsOf(shell.frontEnd)) if (e.name.startsWith(':')) out << new Candidate(e.name, e.name, 'meta', true)
            }
        } else {
            Matcher m = DOTTED.matcher(w.word)
            if (m.matches()) {
                for (String member : members(shell, m.group(1).split(/\./) as List<String>)) {
                    out << new Candidate(m.group(1) + '.' + member, member, 'members', false)
                }
            } else {
                for (String c : Words.commands()) out << new Candidate(c, c, 'commands', true)
                if (shell.frontEnd != null) {
                    for (Help.Entry e : Help.wordsOf(shell.frontEnd)) if (!e.name.startsWith(':')) out << new Candidate(e.name, e.name, 'commands', true)
                }
                for (Object v : shell.binding.variables.keySet()) {
                    String name = v.toString()
                    if (!out.any { it.value == name }) out << new Candidate(name, name, 'variables', true)
                }
            }
        }
        new Completions(w.start, cursor, out.findAll { it.value.startsWith(w.word) })
    }

    /** The members after {@code path} ({@code ['refcounts', 'leaks']}): of the value or type it names, without evaluating anything. */
    private static Collection<String> members(DslShell shell, List<String> path) {
        Object value = null
        Class<?> type = null
        String head = path[0]
        if (shell.binding.hasVariable(head)) {
            value = shell.binding.getVariable(head)
        } else if (Words.isCommand(head)) {
            type = Words.typeOf(Session, head)
        } else {
            return []
        }
        for (String next : path.drop(1)) {
            if (value instanceof Record) {
                value = ((Record) value).fields[next]
                type = null
            } else if (value instanceof Map) {
                value = ((Map) value)[next]
                type = null
            } else {
                Class<?> of = value instanceof Class ? null : (value != null ? value.getClass() : type)
                type = of == null ? null : Words.typeOf(of, next)
                value = null
            }
            if (value == null && type == null) return []
        }
        if (value instanceof Class) return Words.statics((Class<?>) value)
        if (value instanceof Record) return ((Record) value).fields.keySet() + Words.members(Record)
        Class<?> of = value != null ? value.getClass() : type
        of == null || of == void ? [] : Words.members(of)
    }

    private static void snapshots(DslShell shell, List<Candidate> out) {
        try {
            if (!shell.session.isOpen()) return
            for (String n : shell.session.snapshot.names) out << new Candidate(n, n, 'snapshots', false)
        } catch (RuntimeException e) {
            // a damaged snapshot table: no candidates (the command itself will say what is wrong)
        }
    }

    /** Paths inside quotes: entries of the typed directory whose names start with the typed rest. */
    private static void files(String typed, List<Candidate> out) {
        int slash = typed.lastIndexOf('/')
        String dirPart = slash < 0 ? '' : typed.substring(0, slash + 1)
        Path dir = Path.of(dirPart.isEmpty() ? '.' : dirPart.startsWith('~/') ? System.getProperty('user.home') + dirPart.substring(1) : dirPart)
        if (!Files.isDirectory(dir)) return
        try {
            DirectoryStream<Path> entries = Files.newDirectoryStream(dir)
            try {
                for (Path p : entries) {
                    String name = p.fileName.toString()
                    boolean isDir = Files.isDirectory(p)
                    out << new Candidate(dirPart + name + (isDir ? '/' : ''), name + (isDir ? '/' : ''), 'files', false)
                }
            } finally {
                entries.close()
            }
        } catch (IOException e) {
            // unreadable directory: no candidates
        }
    }
}
