package dev.qcow2.repl;

import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.utils.NonBlockingReader;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

/**
 * Shows long output a screen at a time on a real terminal: space for the next page, Enter for
 * one more line, q to stop. Output that fits is printed as is. Never used on a dumb terminal or
 * piped output (the REPL checks).
 */
final class Pager {
    private Pager() { }

    static void show(Terminal terminal, String text) {
        PrintWriter out = terminal.writer();
        List<String> lines = text.lines().toList();
        int page = Math.max(terminal.getHeight() - 1, 5);
        if (terminal.getHeight() <= 0 || lines.size() <= page) {
            out.println(text);
            return;
        }
        Attributes saved = terminal.enterRawMode();
        try {
            NonBlockingReader in = terminal.reader();
            int shown = 0;
            int next = page;
            while (shown < lines.size()) {
                while (shown < Math.min(next, lines.size())) out.println(lines.get(shown++));
                if (shown >= lines.size()) break;
                out.print("-- more (" + (lines.size() - shown) + " lines): space, Enter, q --");
                out.flush();
                int c = in.read();
                out.print("\r\033[K");
                if (c == 'q' || c == 'Q' || c < 0 || c == 3) break;
                next = shown + (c == '\r' || c == '\n' ? 1 : page);
            }
        } catch (IOException e) {
            // the terminal went away: stop paging
        } finally {
            terminal.setAttributes(saved);
            out.flush();
        }
    }
}
