package dev.qcow2.dsl

import groovy.transform.CompileStatic
import groovy.transform.Memoized

import java.lang.reflect.Method
import java.lang.reflect.Modifier

/**
 * The engine's command list, read off {@link Session} by reflection, so that a command added to
 * the session is a word everywhere (name resolution, {@code help}, completion) without editing a
 * list: every public instance method of Session not marked {@link Internal}. A getter
 * ({@code getInfo}) is the word {@code info}, read without arguments; other methods are words
 * called with arguments ({@code walk l2}) or, when they take none, with parentheses
 * ({@code close()}). The same rules read the public members of result types ({@link #members}).
 */
@CompileStatic
final class Words {
    private static final Set<String> NOT_MEMBERS = (Object.methods*.name + GroovyObject.methods*.name
            + ['propertyMissing', 'methodMissing', 'getAt', 'putAt', 'asBoolean', 'call', 'iterator', 'spliterator', 'forEach',
               'compareTo']) as Set<String>

    private Words() { }

    /** Every DSL command, sorted. */
    static SortedSet<String> commands() { new TreeSet<String>(byName(Session).keySet()) }

    static boolean isCommand(String name) { byName(Session).containsKey(name) }

    /** The command can be read without arguments ({@code info}, {@code refcounts}, {@code l2}). */
    static boolean isValue(String name) { getter(Session, name) != null }

    /** One of the command's method forms takes no arguments ({@code close()}, {@code undo()}). */
    static boolean takesNoArguments(String name) {
        Session.methods.any { Method m -> m.name == name && m.parameterCount == 0 && isWord(m) }
    }

    /** The type {@code name} gives on {@code type}: its getter's return type, else its method's, else null. */
    static Class<?> typeOf(Class<?> type, String name) {
        Method g = getter(type, name)
        if (g != null) return g.returnType
        Method m = type.methods.find { Method it -> it.name == name && isWord(it) }
        m?.returnType
    }

    /**
     * The public members of {@code type} as one writes them after a dot: properties by name
     * ({@code leaks}), methods without arguments with parentheses ({@code size()}), methods with
     * arguments by name ({@code findAll}). For an Iterable type also Groovy's iteration methods
     * that take a closure ({@code each}, {@code collect}, …).
     */
    @Memoized
    static SortedSet<String> members(Class<?> type) {
        SortedSet<String> out = new TreeSet<String>(byName(type).collect { String name, List<Method> ms ->
            ms.any { isGetter(it) } || ms.every { it.parameterCount > 0 } ? name : name + '()'
        })
        if (Iterable.isAssignableFrom(type)) {
            for (Method m : org.codehaus.groovy.runtime.DefaultGroovyMethods.methods) {
                def p = m.parameterTypes
                if (Modifier.isStatic(m.modifiers) && p.length == 2 && p[0] in [Iterable, Collection] && p[0].isAssignableFrom(type)
                        && p[1] == Closure && !m.isAnnotationPresent(Deprecated)) out << m.name
            }
        }
        out
    }

    /** The public static methods of {@code type} (what a class bound as a variable, like {@code charts}, offers). */
    static SortedSet<String> statics(Class<?> type) {
        new TreeSet<String>(type.declaredMethods.findAll { Method m -> Modifier.isStatic(m.modifiers) && Modifier.isPublic(m.modifiers) && !m.synthetic && !m.name.contains('$') }*.name)
    }

    @Memoized
    private static Map<String, List<Method>> byName(Class<?> type) {
        Map<String, List<Method>> out = [:]
        for (Method m : type.methods) {
            if (!isWord(m)) continue
            out.computeIfAbsent(wordOf(m)) { [] } << m
        }
        out
    }

    private static boolean isWord(Method m) {
        !Modifier.isStatic(m.modifiers) && !m.synthetic && !m.bridge && !m.name.contains('$') && !(m.name in NOT_MEMBERS)
                && !m.isAnnotationPresent(Internal) && !(m.name.startsWith('set') && m.parameterCount == 1 && m.name.length() > 3)
                && m.declaringClass != Object && !m.declaringClass.name.startsWith('java.') && !m.declaringClass.name.startsWith('groovy.')
    }

    private static boolean isGetter(Method m) {
        m.parameterCount == 0 && m.returnType != void && ((m.name.startsWith('get') && m.name.length() > 3)
                || (m.name.startsWith('is') && m.name.length() > 2 && m.returnType == boolean))
    }

    private static String wordOf(Method m) {
        if (!isGetter(m)) return m.name
        String rest = m.name.substring(m.name.startsWith('get') ? 3 : 2)
        rest.substring(0, 1).toLowerCase() + rest.substring(1)
    }

    private static Method getter(Class<?> type, String name) {
        byName(type)[name]?.find { isGetter(it) }
    }
}
