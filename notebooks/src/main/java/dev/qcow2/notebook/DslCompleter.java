package dev.qcow2.notebook;

import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.Help;
import dev.qcow2.notebook.charts.Charts;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Completion in {@code %%dsl} cells: the word before the cursor against the DSL's commands, the
 * names it binds (l1, l2, leaks, all), the cell variables assigned so far, and after a dot the
 * members of refcounts, snapshot and charts.
 */
final class DslCompleter {
    private static final List<String> WORDS = List.of("l1", "l2", "leaks", "all", "active", "path", "writable", "charts", "display");
    private static final Map<String, List<String>> MEMBERS = Map.of(
            "refcounts", List.of("leaks", "mismatches", "histogram", "of"),
            "snapshot", List.of("list", "diff", "create", "apply", "delete", "names"),
            "charts", chartMethods());

    private final DslShell shell;

    DslCompleter(DslShell shell) { this.shell = shell; }

    JavaCells.Completions complete(String code, int cursor) {
        int start = cursor;
        while (start > 0 && Character.isJavaIdentifierPart(code.charAt(start - 1))) start--;
        String prefix = code.substring(start, cursor);
        TreeSet<String> pool = new TreeSet<>();
        if (start > 0 && code.charAt(start - 1) == '.') {
            int q = start - 1;
            while (q > 0 && Character.isJavaIdentifierPart(code.charAt(q - 1))) q--;
            pool.addAll(MEMBERS.getOrDefault(code.substring(q, start - 1), List.of()));
        } else {
            pool.addAll(Help.names());
            pool.addAll(WORDS);
            for (Object name : shell.getBinding().getVariables().keySet()) pool.add(name.toString());
        }
        List<String> out = new ArrayList<>();
        for (String w : pool) if (w.startsWith(prefix) && !w.equals(prefix)) out.add(w);
        return new JavaCells.Completions(out, start, cursor);
    }

    private static List<String> chartMethods() {
        TreeSet<String> names = new TreeSet<>();
        for (Method m : Charts.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) && m.getDeclaringClass() == Charts.class) names.add(m.getName());
        }
        return List.copyOf(names);
    }
}
