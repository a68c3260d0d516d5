package dev.qcow2.repl;

import dev.qcow2.dsl.Completions;
import dev.qcow2.dsl.DslShell;
import org.jline.reader.CompletingParsedLine;
import org.jline.reader.EOFError;
import org.jline.reader.ParsedLine;
import org.jline.reader.Parser;

import java.util.List;

/**
 * JLine's view of DSL input. On Enter: input that {@link DslShell#completeness} calls INCOMPLETE
 * (an open brace, bracket or string) asks for another line (JLine's secondary prompt); anything
 * else is accepted, and syntax errors come from the evaluation as one line. For completion: the
 * word under the cursor is the engine's ({@link Completions#wordAt}): what follows the last
 * delimiter, or, inside a quoted string, what follows the opening quote.
 */
public final class DslParser implements Parser {
    private final DslShell shell;

    public DslParser(DslShell shell) { this.shell = shell; }

    @Override
    public ParsedLine parse(String line, int cursor, ParseContext context) {
        if (context == ParseContext.ACCEPT_LINE && !line.isBlank() && !line.stripLeading().startsWith(":")
                && shell.completeness(line) == DslShell.Completeness.INCOMPLETE) {
            throw new EOFError(-1, -1, "input continues", "more");
        }
        return wordAt(line, cursor);
    }

    /** The word before {@code cursor}: from the last delimiter, or from an opening quote if inside a string. */
    public static Word wordAt(String line, int cursor) {
        Completions.Word w = Completions.wordAt(line, cursor);
        return new Word(line, cursor, w.getWord(), w.getStart(), w.getQuote());
    }

    /**
     * A parsed line with one word of interest: {@code word} (up to the cursor) starting at
     * {@code start}; {@code quote} is the open quote character, or 0 outside a string.
     */
    public record Word(String line, int cursor, String word, int start, char quote) implements CompletingParsedLine {
        /** The text before the word (what the completer looks at for context). */
        public String before() { return line.substring(0, start); }

        public boolean inString() { return quote != 0; }

        @Override public int wordCursor() { return word.length(); }
        @Override public int wordIndex() { return 0; }
        @Override public List<String> words() { return List.of(word); }
        /** Candidates are inserted as they are: the DSL needs no shell-style escaping. */
        @Override public CharSequence escape(CharSequence candidate, boolean complete) { return candidate; }
        @Override public int rawWordCursor() { return word.length(); }
        @Override public int rawWordLength() { return word.length(); }
    }
}
