package dev.qcow2.dsl

import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.nio.file.Path

/**
 * How names resolve in the engine every front end uses: a variable the user assigns wins over
 * the command of the same name, commands with effects run only when called, and help and
 * completion are derived from the engine's own command list ({@link Words}), so each table here
 * covers every command there is, including ones added later.
 */
class NameResolutionSpec extends Specification {
    @TempDir Path dir

    def "the engine's command list is read off the session, with the internals left out"() {
        expect:
        Words.commands().containsAll(['open', 'close', 'info', 'check', 'map', 'walk', 'l1', 'l2', 'refcounts', 'snapshot',
                                      'read', 'find', 'export', 'write', 'repair', 'leaks', 'all', 'undo', 'help'])
        Words.commands().intersect(['image', 'writer', 'requirePath', 'exclusive', 'changed', 'progress', 'label', 'metaClass']).isEmpty()
    }

    def "'#name' assigned as a variable wins over the command of that name, in this and later inputs"() {
        given:
        def shell = new DslShell()
        shell.evaluate("open '${Fixtures.mixed(dir)}'")

        expect:
        shell.evaluate("${name} = [1, 2, 3]; ${name}.size()") == 3
        shell.evaluate("${name}.sum()") == 6
        shell.evaluate("[${name}].flatten().size()") == 3

        cleanup:
        shell?.close()

        where:
        name << Words.commands()
    }

    def "help has a line for the command '#name', valid everywhere"() {
        expect:
        Help.entry(name) != null
        Help.entry(name).where == null

        where:
        name << Words.commands()
    }

    def "mentioning '#name' without calling it changes nothing and says how to call it"() {
        given:
        def img = Fixtures.leaked(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate(name)

        then:
        def e = thrown(DslException)
        e.message.startsWith(name)
        e.message =~ /run it as $name\(\)|needs arguments; use: /
        !e.message.contains('\n')
        shell.session.open

        when:
        shell.close()

        then:
        Sha256.of(img) == before

        where:
        name << Words.commands().findAll { !Words.isValue(it) }
    }

    def "close and undo run only with parentheses"() {
        given:
        def img = Fixtures.leaked(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate('close')

        then:
        def e = thrown(DslException)
        e.message.startsWith('close is a command: run it as close()')
        shell.session.open

        when:
        shell.evaluate('close()')

        then:
        !shell.session.open
    }

    def "with leaks, all, l1 and l2 hidden by variables, commands still run: by name, or called with arguments"() {
        given:
        def img = Fixtures.leaked(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true; leaks = []; all = 0; walk = 'mine'; info = 1")

        expect:
        shell.evaluate("repair 'leaks'").leaks_fixed == 1L
        shell.evaluate('walk(l2)').size() > 0
        shell.evaluate('walk') == 'mine'
        shell.evaluate('undo()').ranges_restored > 0

        cleanup:
        shell?.close()
    }

    def "a variable holding a closure is called by name, even when a command has that name"() {
        given:
        def shell = new DslShell()

        expect:
        shell.evaluate('check = { x -> x * 2 }; check(21)') == 42
    }

    def "an unknown name and the script's own methods still resolve as Groovy does"() {
        given:
        def shell = new DslShell()

        expect:
        shell.evaluate('def twice(n) { 2 * n }; twice(4)') == 8
        shell.evaluate('String.valueOf(7)') == '7'

        when:
        shell.evaluate('nosuch.size()')

        then:
        def e = thrown(DslException)
        e.message == "unknown name 'nosuch' — type help for the commands"
    }

    def "completion offers every command at the start of a word"() {
        given:
        def shell = new DslShell()

        expect:
        shell.complete('', 0).values.containsAll(Words.commands())
        shell.complete('wr', 2).values.sort() == ['writable', 'write', 'writeCompressed']
    }

    def "after '#command.' completion offers every public member of #type.simpleName"() {
        given:
        def shell = new DslShell()
        String code = command + '.'

        when:
        def offered = shell.complete(code, code.length()).candidates*.display

        then:
        publicMembers(type).every { m -> m in offered || (m + '()') in offered }

        where:
        [command, type] << Words.commands().collect { [it, Words.typeOf(Session, it)] }
                .findAll { it[1].package?.name == 'dev.qcow2.dsl' && !it[1].isEnum() }
    }

    def "front-end words are offered only in their front end"() {
        given:
        def shell = new DslShell()

        expect:
        !shell.complete(':', 1).values
        !('exit' in shell.complete('ex', 2).values)

        when:
        shell.frontEnd = FrontEnd.REPL

        then:
        shell.complete(':q', 2).values == [':quit']

        when:
        shell.frontEnd = FrontEnd.RUN

        then:
        'exit' in shell.complete('ex', 2).values
    }

    /** The public instance members a user can call: read with plain reflection, independently of {@link Words}. */
    static List<String> publicMembers(Class<?> type) {
        type.methods.findAll { Method m ->
            !Modifier.isStatic(m.modifiers) && !m.synthetic && !m.name.contains('$') && m.declaringClass.package?.name == 'dev.qcow2.dsl'
                    && !m.isAnnotationPresent(Internal) && !(m.name in GroovyObject.methods*.name) && !(m.name in Object.methods*.name)
                    && !(m.name in ['propertyMissing', 'getAt', 'asBoolean', 'call', 'iterator'])
                    && !(m.name ==~ /set[A-Z].*/ && m.parameterCount == 1)
        }.collect { Method m ->
            def getter = m.parameterCount == 0 && (m.name ==~ /get[A-Z].*/ || m.name ==~ /is[A-Z].*/)
            getter ? (m.name.replaceFirst(/^(get|is)/, '')).with { it[0].toLowerCase() + it.substring(1) } : m.name
        }.unique()
    }
}
