package dev.qcow2.repl;

import dev.qcow2.dsl.SecretRedaction;
import org.jline.reader.impl.history.DefaultHistory;

import java.time.Instant;

/**
 * The REPL's history (in memory and in the history file): every line as typed, except that
 * passphrases written in it ({@code open 'x.qcow2', secret: 'pw'}, {@code secrets: [1: 'pw']})
 * are masked before the line is kept ({@link SecretRedaction#inCode}), so neither the file nor
 * the up-arrow ever shows them.
 */
final class RedactingHistory extends DefaultHistory {
    @Override
    public void add(Instant time, String line) {
        super.add(time, SecretRedaction.inCode(line));
    }
}
