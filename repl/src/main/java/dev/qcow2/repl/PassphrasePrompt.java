package dev.qcow2.repl;

import dev.qcow2.dsl.SessionSecrets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

import java.nio.file.Path;

/**
 * The REPL's answer when an encrypted layer needs a passphrase none was given for: one line read
 * on the terminal without echo, by a reader of its own (no history, no DSL parser: a quote in a
 * passphrase is not an open string). Ctrl-C or Ctrl-D gives none (the open then fails as
 * qemu-img's does). The text is handed over as a char array, never as part of any output.
 */
final class PassphrasePrompt implements SessionSecrets.Prompt {
    private final LineReader reader;

    PassphrasePrompt(Terminal terminal) {
        this.reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("qcow2-passphrase")
                .variable(LineReader.DISABLE_HISTORY, true)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
    }

    @Override
    public char[] passphrase(Path layer, int depth) {
        String prompt = "Passphrase for " + layer + (depth > 0 ? " (backing file, depth " + depth + ")" : "") + ": ";
        try {
            // mask 0: nothing is echoed, not even stars
            String line = reader.readLine(prompt, (char) 0);
            return line == null ? null : line.toCharArray();
        } catch (UserInterruptException | EndOfFileException e) {
            return null;
        }
    }
}
