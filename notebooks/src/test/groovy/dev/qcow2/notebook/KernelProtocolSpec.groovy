package dev.qcow2.notebook

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The installed kernel driven over the Jupyter protocol by jupyter_client (kernel_driver.py):
 * execute, complete, interrupt a running cell then run the next one in the same session, and
 * one-line errors. Each feature starts its own kernel (the interrupt rows one per interrupt mode).
 */
class KernelProtocolSpec extends Specification {
    @Shared @TempDir Path tmp
    @Shared Path image

    def setupSpec() {
        TestKernels.assertJupyterClient()
        image = DemoImages.damaged(tmp.resolve('damaged.qcow2'))
    }

    Map drive(String mode = 'message', List<Map> steps) { TestKernels.drive(tmp, mode, steps) }

    static Map run(String code) { [execute: code] }

    static Map interrupt(String code) { [execute: code, interrupt_after: 1] }

    def "the kernelspec holds its own class path, its AOT cache and message interrupts"() {
        given:
        Path spec = TestKernels.jupyterPath('message').resolve('kernels/qcow2-java')
        def json = new JsonSlurper().parse(spec.resolve('kernel.json').toFile())

        expect:
        json.interrupt_mode == 'message'
        json.argv.contains("-XX:AOTCache=${spec.resolve('kernel.aot')}".toString())
        Files.size(spec.resolve('kernel.aot')) > 0
        json.argv[json.argv.indexOf('-cp') + 1].split(':').every { it.startsWith(spec.resolve('lib').toString() + '/') && Files.isRegularFile(Path.of(it)) }
        json.argv.takeRight(2) == [KernelMain.name, '{connection_file}']
    }

    def "execute: values, declarations kept across cells, %%dsl cells sharing one session, output and HTML tables"() {
        when:
        def r = drive([run('6 * 7'), run('int base = 40;'), run('base + 2'), run('System.out.println("to stdout");'),
                       run("%%dsl\nopen '${image}'"), run('%%dsl\nleaked = refcounts.leaks'), run('%%dsl\nleaked.size()'),
                       run('%%dsl\nleaked'), run('((dev.qcow2.dsl.Table) dsl("leaked")).size()')]).steps

        then:
        r*.status == ['ok'] * 9
        r[0].result == '42'
        r[1].result == null
        r[2].result == '42'
        r[3].stdout == 'to stdout\n'
        r[6].result == '2'
        'text/html' in r[7].data
        r[8].result == '2'
    }

    /** Interrupted cells: what, the kernelspec's interrupt mode, the cell. */
    static final List<List<String>> INTERRUPTS = [
            ['a Java while (true) {}',                  'message', 'while (true) {}'],
            ['a Java cell blocked in Thread.sleep',     'message', 'Thread.sleep(600_000);'],
            ['a Java loop that catches everything',     'message', 'while (true) { try { Thread.sleep(5); } catch (Throwable t) { } }'],
            ['a Java method that loops for ever',       'message', 'void spin() { for (;;) { } }\nspin();'],
            ['a DSL while (true) {}',                   'message', '%%dsl\nwhile (true) {}'],
            ['a DSL loop reading the open image',       'message', '%%dsl\nwhile (true) { refcounts.leaks }'],
            ['a Java cell calling the DSL',             'message', 'dsl("while (true) {}")'],
            ['a Java while (true) {} (SIGINT)',         'signal',  'while (true) {}'],
            ['a DSL while (true) {} (SIGINT)',          'signal',  '%%dsl\nwhile (true) {}'],
    ]
    @Shared Map<String, Map> interruptedKernels = [:]

    /**
     * One kernel per interrupt mode takes every row of that mode in turn: after the session is set
     * up (a Java variable, an open image, a DSL variable), each row is its interrupted cell and the
     * two cells that must still see that session. A kernel interrupted again and again must stay
     * usable each time.
     */
    Map interruptedKernel(String mode) {
        interruptedKernels.computeIfAbsent(mode) { m ->
            def rows = INTERRUPTS.findAll { it[1] == m }
            drive(m, [run('int n = 5;'), run("%%dsl\nopen '${image}'\nx = 3")] +
                    rows.collectMany { [interrupt(it[2]), run('n + 1'), run('%%dsl\nx + refcounts.leaks.size()')] })
        }
    }

    def "interrupting #what stops it; the next cells run in the same session (variables, open image)"() {
        given: 'the steps of this row in its mode\'s kernel'
        def kernel = interruptedKernel(mode)
        int first = 2 + 3 * INTERRUPTS.findAll { it[1] == mode }.findIndexOf { it[0] == what }
        def steps = kernel.steps[first..first + 2]

        expect: 'the cell ends with one line, not the note of a cell left running'
        kernel.alive
        steps[0].status == 'error'
        steps[0].error.evalue == 'interrupted'
        steps[0].error.traceback.size() == 1

        and:
        steps[1].result == '6'
        steps[2].result == '5'

        where:
        [what, mode, _] << INTERRUPTS
    }

    def "a cell that ignores the interrupt is left running in the background and says so; the kernel stays usable"() {
        when: "Groovy's sleep sleeps on when interrupted (the DSL is up first, so the interrupt comes during the sleep)"
        def r = drive([run('int n = 1;'), run('%%dsl\n1'), [execute: '%%dsl\nsleep 600_000', interrupt_after: 2], run('n + 1'),
                       run('%%dsl\n1')]).steps

        then:
        r[2].error.evalue == 'interrupted; the cell ignored the interrupt and runs on in the background'
        r[3].result == '2'
        r[4].error.evalue ==~ /the DSL session is still busy with an interrupted cell.*/
    }

    /** Completions asked for at the end of {@code code}, and one offer each must include. */
    static final List<List<String>> COMPLETIONS = [
            ['dev.qcow2.ima',                           'image.'],
            ['dev.qcow2.image.Qcow2Image.',             'open('],
            ['Qcow2Image.open(Path.of("d.qcow2")).hea', 'header()'],
            ['ImageChecker.',                           'check('],
            ['dev.qcow2.dsl.DslSh',                     'DslShell'],
            ['%%dsl\nrefcounts.mis',                    'refcounts.mismatches'],
    ]
    @Shared List<Map> completed

    def "Java completion knows the toolkit's API before any cell ran: '#code' offers #offered"() {
        given: 'one kernel answers every row'
        completed = completed ?: drive(COMPLETIONS.collect { [complete: it[0], cursor: it[0].length()] }).steps
        def reply = completed[COMPLETIONS.findIndexOf { it[0] == code }]

        expect:
        reply.status == 'ok'
        offered in reply.matches
        reply.cursor_end == code.length()

        where:
        [code, offered] << COMPLETIONS
    }

    def "a failing cell gives one line, without a stack trace"() {
        when:
        def r = drive([run('int x = missingName + 1;'), run('Object o = null; o.toString()'), run('%%dsl\nfrobnicate 3'),
                       run('%%dsl\nopen "/no/such.qcow2"'), run('throw new IllegalStateException("two\\nlines");')]).steps

        then:
        r*.status == ['error'] * 5
        r.every { it.error.traceback.size() == 1 && !it.error.evalue.contains('\n') }
        r[0].error.evalue == 'line 1: cannot find symbol (symbol: variable missingName)'
        r[1].error.evalue.startsWith('NullPointerException: ')
        r[2].error.evalue.startsWith('unknown command frobnicate(Integer)')
        r[3].error.evalue == "Could not open '/no/such.qcow2': No such file or directory"
        r[4].error.evalue == 'IllegalStateException: two'
    }
}
