package dev.qcow2.repl;

import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.Help;
import dev.qcow2.dsl.Record;
import dev.qcow2.dsl.Table;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tab completion for the REPL:
 * <ul>
 *   <li>a word at the start: the DSL commands ({@link Help}), the session's variables, and
 *       {@code :help :load :quit} after a colon;
 *   <li>{@code name.}: the properties of that DSL object ({@code refcounts.} → leaks,
 *       mismatches, histogram, of), of a variable holding a table (its methods) or a record
 *       (its fields);
 *   <li>inside quotes after {@code snapshot(}, {@code snapshot.diff/apply/delete} or
 *       {@code from:}: the open image's snapshot names; inside other quotes: file paths.
 * </ul>
 * Never evaluates DSL code (a completion must be instant and change nothing).
 */
public final class DslCompleter implements Completer {
    static final Map<String, List<String>> PROPERTIES = Map.of(
            "refcounts", List.of("leaks", "mismatches", "histogram", "of"),
            "snapshot", List.of("list", "diff", "create", "apply", "delete", "names"));
    static final List<String> TABLE_MEMBERS = List.of("size()", "each", "findAll", "collect", "column", "sort", "take",
            "columnNames", "toJson()", "toHtml()");
    static final List<String> META = List.of(":help", ":load", ":quit");
    private static final Pattern SNAPSHOT_CONTEXT =
            Pattern.compile(".*(snapshot\\s*\\(\\s*|snapshot\\.(diff|apply|delete)\\s*\\(?\\s*([\"'][^\"']*[\"']\\s*,\\s*)?|from:\\s*)$", Pattern.DOTALL);
    private static final Pattern DOTTED = Pattern.compile("([A-Za-z_][A-Za-z_0-9]*)\\.([A-Za-z_0-9]*)");

    private final DslShell shell;

    public DslCompleter(DslShell shell) { this.shell = shell; }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        DslParser.Word w = line instanceof DslParser.Word word ? word : DslParser.wordAt(line.line(), line.cursor());
        candidates.addAll(candidates(w));
    }

    /** The candidates for a parsed word (what the specs check). */
    public List<Candidate> candidates(DslParser.Word w) {
        List<Candidate> out = new ArrayList<>();
        if (w.inString()) {
            if (SNAPSHOT_CONTEXT.matcher(w.before().substring(0, w.before().length() - 1)).matches()) snapshots(out);
            else files(w.word(), out);
            return out;
        }
        String word = w.word();
        if (w.before().isBlank() && word.startsWith(":")) {
            for (String m : META) out.add(new Candidate(m, m, "meta", null, null, null, true));
            return out;
        }
        Matcher m = DOTTED.matcher(word);
        if (m.matches()) {
            for (String p : members(m.group(1))) out.add(new Candidate(m.group(1) + "." + p, p, null, null, null, null, false));
            return out;
        }
        for (String c : Help.names()) out.add(new Candidate(c, c, "commands", null, null, null, true));
        for (Object v : shell.getBinding().getVariables().keySet()) {
            String name = v.toString();
            if (!name.equals("args")) out.add(new Candidate(name, name, "variables", null, null, null, true));
        }
        return out;
    }

    private List<String> members(String name) {
        List<String> known = PROPERTIES.get(name);
        if (known != null) return known;
        Object v = shell.getBinding().hasVariable(name) ? shell.getBinding().getVariable(name) : null;
        if (v instanceof Table) return TABLE_MEMBERS;
        if (v instanceof Record r) return new ArrayList<>(r.getFields().keySet());
        return List.of();
    }

    private void snapshots(List<Candidate> out) {
        try {
            if (!shell.getSession().isOpen()) return;
            for (String n : shell.getSession().getSnapshot().getNames()) out.add(new Candidate(n, n, "snapshots", null, null, null, false));
        } catch (RuntimeException e) {
            // a damaged snapshot table: no candidates (the command itself will say what is wrong)
        }
    }

    /** Paths inside quotes: entries of the typed directory whose names start with the typed rest. */
    static void files(String typed, List<Candidate> out) {
        int slash = typed.lastIndexOf('/');
        String dirPart = slash < 0 ? "" : typed.substring(0, slash + 1);
        Path dir = Path.of(dirPart.isEmpty() ? "." : dirPart.startsWith("~/") ? System.getProperty("user.home") + dirPart.substring(1) : dirPart);
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                boolean isDir = Files.isDirectory(p);
                out.add(new Candidate(dirPart + name + (isDir ? "/" : ""), name + (isDir ? "/" : ""), "files", null, null, null, false));
            }
        } catch (IOException e) {
            // unreadable directory: no candidates
        }
    }
}
