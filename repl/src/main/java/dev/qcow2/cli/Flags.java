package dev.qcow2.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** getopt-style parsing of one qemu-io command's arguments: boolean flags and flags with a value. */
final class Flags {
    final List<String> rest = new ArrayList<>();
    private final Map<Character, String> set = new TreeMap<>();

    /** Returns null on an unknown flag or a missing value (the caller prints the usage). */
    static Flags parse(List<String> args, String booleans, String withValue) {
        Flags f = new Flags();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-") || a.length() < 2 || !f.rest.isEmpty()) {
                f.rest.add(a);
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                if (booleans.indexOf(c) >= 0) {
                    f.set.put(c, "");
                } else if (withValue.indexOf(c) >= 0) {
                    String v = k + 1 < a.length() ? a.substring(k + 1) : (i + 1 < args.size() ? args.get(++i) : null);
                    if (v == null) return null;
                    f.set.put(c, v);
                    break;
                } else {
                    return null;
                }
            }
        }
        return f;
    }

    boolean has(char c) { return set.containsKey(c); }

    String value(char c) { return set.get(c); }
}
