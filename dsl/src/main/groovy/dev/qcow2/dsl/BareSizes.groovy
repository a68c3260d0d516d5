package dev.qcow2.dsl

import groovy.transform.CompileStatic

import java.util.regex.Matcher
import java.util.regex.Pattern

/**
 * A size written without quotes ({@code zero 64k, 64k}) is not what it looks like in Groovy:
 * it fails as an unknown name far from the mistake ('zero', 'k'), or worse, as a command chain
 * that runs first and fails after ({@code zero 0, 1.5M} is {@code zero(0, 1.5).M}). A number
 * directly followed by a size suffix is never meaningful Groovy (its own suffixes are G, L, I,
 * D, F and exponents), so {@link DslShell} refuses such code before running any of it, saying
 * what to write instead.
 */
@CompileStatic
final class BareSizes {
    /** 64k, 1.5M, 4KiB, 2GiB, 512b: a qemu-img size suffix Groovy does not read (a bare 2G is a BigInteger and left alone). */
    private static final Pattern BARE = ~/(?<![\w.$])(\d+(?:\.\d+)?(?:[kKmMtTpP](?:i?[bB])?|[gG]i?[bB]|[gG][bB]|[bB]))(?![\w.])/
    /** String literals, regex literals and comments are blanked before searching. */
    private static final Pattern QUOTED = ~/(?s)'''.*?'''|""".*?"""|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|~\s*\/(?:\\.|[^\/\\\n])*\/|\$\/.*?\/\$|\/\/[^\n]*|\/\*.*?\*\//

    private BareSizes() { }

    /** Throws "sizes like 64k must be quoted: '64k' (or written 64.KiB)" when {@code code} has an unquoted size. */
    static void check(String code) {
        String size = find(code)
        if (size != null) throw new DslException("sizes like $size must be quoted: '$size'" + (unitWord(size) ? " (or written ${unitWord(size)})" : ''))
    }

    /** The same size in the {@link SizeUnits} words: 64k → 64.KiB, 1.5M → 1.5.MiB, 512b → 512; null if none fits. */
    static String unitWord(String size) {
        Matcher m = (size =~ /^(\d+(?:\.\d+)?)([kKmMgGtTpP]?)(?:i?[bB])?$/)
        if (!m.matches()) return null
        String unit = m.group(2).toUpperCase()
        unit ? "${m.group(1)}.${unit}iB" : m.group(1)
    }

    /** The first unquoted size token in {@code code}, or null. */
    static String find(String code) {
        Matcher m = BARE.matcher(QUOTED.matcher(code).replaceAll(' '))
        m.find() ? m.group(1) : null
    }
}
