package dev.qcow2.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The launcher's training run for the JDK's AOT cache (JEP 483/514: {@code
 * -XX:AOTCacheOutput}): one JVM runs every command line of a file through {@link Main#run}, so
 * the cache holds the classes (and profiles) of all of them — a cache is made from one training
 * run, not merged from several. Not a user command.
 *
 * <p>File format: one command line per line, words separated by blanks, a backslash escapes
 * the next character; blank lines are skipped. Exit codes of the commands are ignored (some
 * runs exercise errors on purpose); the run itself exits 0.
 */
public final class Training {
    private Training() { }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Training RUNS-FILE");
            System.exit(2);
        }
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            List<String> words = split(line);
            if (words.isEmpty()) continue;
            try {
                Main.run(words.toArray(new String[0]));
            } catch (RuntimeException | Error e) {   // a failed training line only costs coverage
                System.err.println("training: " + line + ": " + e);
            }
        }
        System.exit(0);
    }

    /** Splits a line on blanks; a backslash escapes the next character (as bash's read without -r). */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                if (word == null) word = new StringBuilder();
                word.append(line.charAt(++i));
            } else if (c == ' ' || c == '\t') {
                if (word != null) words.add(word.toString());
                word = null;
            } else {
                if (word == null) word = new StringBuilder();
                word.append(c);
            }
        }
        if (word != null) words.add(word.toString());
        return words;
    }
}
