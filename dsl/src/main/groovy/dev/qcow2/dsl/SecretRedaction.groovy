package dev.qcow2.dsl

import groovy.transform.CompileStatic

import java.util.regex.Matcher
import java.util.regex.Pattern

/**
 * Keeps passphrases typed into DSL code ({@code open 'x.qcow2', secret: 'pw'},
 * {@code secrets: [1: 'pw2']}) out of what is kept or shown: the REPL's history file
 * ({@link #inCode}: the literals masked) and every error line ({@link #inMessage}: any of those
 * literals that a message happens to quote, e.g. a Groovy error echoing an argument, masked).
 * Only literals written right after {@code secret:} or inside {@code secrets: [...]} are known
 * to be secrets: a passphrase kept in a variable is the user's to hide (or use {@code secretFile:},
 * or let the REPL ask for it).
 */
@CompileStatic
final class SecretRedaction {
    private SecretRedaction() { }

    static final String MASK = '***'

    /** A Groovy string literal: triple-quoted, single- or double-quoted (with escapes). */
    private static final String LITERAL = /'''[\s\S]*?'''|"""[\s\S]*?"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/

    /** DSL {@code secret: 'pw'}, and the library's {@code Secret.ofString("pw")} as Java cells and jshell write it. */
    private static final Pattern SECRET = Pattern.compile(/\bsecret\s*:\s*(/ + LITERAL + /)|\bSecret\s*\.\s*ofString\s*\(\s*(/ + LITERAL + /)/)
    /** {@code secrets: [ ... ]} up to the closing bracket (no nested brackets in such a map). */
    private static final Pattern SECRETS = Pattern.compile(/\bsecrets\s*:\s*\[([^\]]*)\]?/)
    private static final Pattern ANY_LITERAL = Pattern.compile(LITERAL)

    /** {@code code} with the secret literals' contents replaced by {@link #MASK} (quotes kept). */
    static String inCode(String code) {
        if (code == null || !code.toLowerCase().contains('secret')) return code
        List<int[]> spans = literalSpans(code)
        if (spans.isEmpty()) return code
        StringBuilder sb = new StringBuilder(code)
        for (int i = spans.size() - 1; i >= 0; i--) {
            int[] s = spans[i]
            int q = quoteLength(code, s[0])
            sb.replace(s[0] + q, s[1] - q, MASK)
        }
        sb.toString()
    }

    /** The secret values (literal contents, unescaped as far as it matters) written in {@code code}. */
    static List<String> values(String code) {
        if (code == null || !code.toLowerCase().contains('secret')) return []
        literalSpans(code).collect { int[] s ->
            int q = quoteLength(code, s[0])
            code.substring(s[0] + q, s[1] - q)
        }.findAll { String v -> !v.isEmpty() }
    }

    /** {@code message} with every secret value of {@code code} masked. */
    static String inMessage(String message, String code) {
        if (message == null) return null
        String m = message
        for (String v : values(code).sort { String a, String b -> b.length() <=> a.length() }) {
            m = m.replace(v, MASK)
            String unescaped = v.replace("\\'", "'").replace('\\"', '"').replace('\\\\', '\\')
            if (unescaped != v) m = m.replace(unescaped, MASK)
        }
        m
    }

    private static List<int[]> literalSpans(String code) {
        List<int[]> spans = []
        Matcher m = SECRET.matcher(code)
        while (m.find()) {
            int g = m.start(1) >= 0 ? 1 : 2
            spans << ([m.start(g), m.end(g)] as int[])
        }
        Matcher ms = SECRETS.matcher(code)
        while (ms.find()) {
            Matcher lit = ANY_LITERAL.matcher(code).region(ms.start(1), ms.end(1))
            while (lit.find()) spans << ([lit.start(), lit.end()] as int[])
        }
        spans.sort { int[] a, int[] b -> a[0] <=> b[0] }
    }

    private static int quoteLength(String code, int at) {
        code.startsWith("'''", at) || code.startsWith('"""', at) ? 3 : 1
    }
}
