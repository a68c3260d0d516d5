package dev.qcow2.notebook

import dev.qcow2.dsl.Words
import dev.qcow2.testing.Sha256

import org.dflib.jjava.jupyter.kernel.display.DisplayData
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.security.MessageDigest

/** The kernel without sockets: Java cells, %%dsl cells, completion, display data, one-line errors. */
class KernelSpec extends Specification {
    @Shared Qcow2Kernel kernel = new Qcow2Kernel()
    @Shared @TempDir Path dir
    @Shared Path damaged
    @Shared String damagedSha
    List<DisplayData> shown = []

    def setupSpec() {
        damaged = DemoImages.damaged(dir.resolve('damaged.qcow2'))
        damagedSha = Sha256.of(damaged)
    }

    def setup() { kernel.setDisplaySink { shown << it } }

    def cleanupSpec() {
        kernel.onShutdown(false)
        assert Sha256.of(damaged) == damagedSha: 'reading and charting must not change the image'
    }


    static String text(DisplayData d) { d.getData(MIMEType.TEXT_PLAIN) }

    def "a Java expression shows its value; declarations persist across cells and show nothing"() {
        expect:
        text(kernel.eval('1 + 2 * 3')) == '7'
        kernel.eval('int base = 40;\nString greet(String s) { return "hi " + s; }') == null
        text(kernel.eval('base + 2')) == '42'
        text(kernel.eval('greet("qcow2")')) == 'hi qcow2'
    }

    def "a cell of several snippets runs them in order and shows the last expression"() {
        expect:
        text(kernel.eval('var xs = new ArrayList<Integer>();\nfor (int i = 0; i < 4; i++) xs.add(i * i);\nxs')) == '[0, 1, 4, 9]'
    }

    def "the toolkit is imported: a Java cell opens an image and checks it without imports"() {
        when:
        def d = kernel.eval("""long leaksFound = 0;
            try (var img = Qcow2Image.open(Path.of("${damaged}"), OpenOptions.forChecking())) {
                leaksFound = ImageChecker.check(img).leaks();
            }
            leaksFound""")

        then:
        text(d) == '2'
    }

    def "%%dsl cells share one session and binding: open in one cell, use the result in the next"() {
        when:
        kernel.eval("%%dsl\nopen '${damaged}'")
        kernel.eval('%%dsl\nleaked = refcounts.leaks')
        def count = kernel.eval('%%dsl\nleaked.size()')
        def table = kernel.eval('%%dsl\nleaked')

        then:
        text(count) == '2'
        table.hasDataForType(MIMEType.TEXT_HTML)
        (table.getData(MIMEType.TEXT_HTML) as String).startsWith('<table class="qcow2"><caption>leaked clusters')
        text(table).contains('leaked')

        and: 'Java cells reach the same session through dsl(...)'
        text(kernel.eval('((dev.qcow2.dsl.Table) dsl("leaked")).size()')) == '2'
    }

    def "charts show as image/png, from a cell's value and from display(...) in Java and %%dsl cells"() {
        when:
        def map = kernel.eval("Charts.hostMap(\"${damaged}\")")
        kernel.eval("display(Charts.refcountHistogram(\"${damaged}\")); int after = 1;")
        kernel.eval("%%dsl\ndisplay charts.leaks('${damaged}')")

        then: 'a map says what it is in its text/plain alternative'
        png(map)
        text(map) == 'host clusters of damaged.qcow2'
        shown.size() == 2
        shown.every { png(it) }
    }

    static boolean png(DisplayData d) {
        String b64 = d?.getData(MIMEType.parse('image/png'))
        b64 != null && Base64.decoder.decode(b64)[0..3] == [0x89, 0x50, 0x4e, 0x47] as byte[]
    }

    def "a failing cell gives one line naming the problem, never a stack trace"() {
        when:
        kernel.evaluate(code)

        then:
        def e = thrown(CellException)
        e.message ==~ expected
        !e.message.contains('\n')
        kernel.formatError(e).size() == 1

        where:
        code                                             | expected
        'int x = missingName + 1;'                       | /line 1: cannot find symbol \(symbol: variable missingName\)/
        '1 + 1;\nString s = 5;'                          | /line 2: incompatible types: int cannot be converted to .*String/
        'Object o = null; o.toString()'                  | /NullPointerException.*/
        'Qcow2Image.open(Path.of("/no/such.qcow2"))'     | /.*no\/such\.qcow2.*/
        '%%dsl\nopen "/no/such.qcow2"'                   | "Could not open '/no/such.qcow2': No such file or directory"
        '%%dsl\nclose'                                  | /close is a command: run it as close\(\)/
        '%%dsl\nfrobnicate 3'                            | /unknown command frobnicate\(Integer\).*/
        '%%dsl verbose\ninfo'                            | /%%dsl takes no arguments, found 'verbose'/
    }

    def "a DSL error in a fresh session says what to do"() {
        given:
        def fresh = new Qcow2Kernel()

        when:
        fresh.evaluate('%%dsl\ninfo')

        then:
        def e = thrown(CellException)
        e.message == "no image open — use open 'file.qcow2'"

        cleanup:
        fresh.onShutdown(false)
    }

    def "completion offers Java names from the JShell analysis and DSL commands in %%dsl cells"() {
        when:
        def java = kernel.complete('var img = Qcow2Ima', 18)
        def member = kernel.complete('int a = 1;\n"x".toUpperC', 23)
        def dsl = kernel.complete('%%dsl\nrefcounts.mis', 19)
        def command = kernel.complete('%%dsl\nsnap', 10)

        then:
        java.replacements.contains('Qcow2Image')
        java.sourceStart == 10 && java.sourceEnd == 18
        member.replacements.any { it.startsWith('toUpperCase') }
        dsl.replacements == ['refcounts.mismatches']
        dsl.sourceStart == 6
        command.replacements.contains('snapshot')
    }

    def "interrupt stops #what from another thread; the session lives on"() {
        given:
        kernel.eval('int kept = 7;')
        kernel.eval('%%dsl\nkeptToo = 8')
        def stopper = Thread.start { sleep 500; kernel.interrupt() }

        when:
        kernel.evaluate(cell)

        then:
        def e = thrown(CellException)
        e.message == 'interrupted'

        and:
        text(kernel.eval('kept')) == '7'
        text(kernel.eval('%%dsl\nkeptToo')) == '8'

        cleanup:
        stopper.join()

        where:
        what                          | cell
        'a Java while (true) {}'      | 'while (true) {}'
        'a Java Thread.sleep'         | 'Thread.sleep(600_000);'
        'a DSL while (true) {}'       | '%%dsl\nwhile (true) {}'
    }

    def "an interrupt before a cell does not stop it"() {
        when:
        kernel.interrupt()

        then:
        text(kernel.eval('40 + 2')) == '42'
    }

    def "%%dsl completion is the engine's: the notebook's own words, a class's static methods, no other front end's words"() {
        when:
        def charts = kernel.complete('%%dsl\ncharts.host', 17)
        def words = kernel.complete('%%dsl\ndis', 9)
        def exit = kernel.complete('%%dsl\nexi', 9)

        then:
        charts.replacements.containsAll(['charts.hostMap', 'charts.hostClusters'])
        words.replacements.containsAll(['display', 'discard'])
        exit == null
    }

    def "in a %%dsl cell a variable named '#name' wins over the command '#name'"() {
        expect:
        text(kernel.eval("%%dsl\n${name} = [1, 2, 3]\n${name}.size()")) == '3'
        text(kernel.eval("%%dsl\n${name}.sum()")) == '6'

        cleanup: 'the other features share this kernel'
        kernel.dslShell().binding.variables.remove(name)

        where:
        name << Words.commands()
    }

    def "isComplete tells the front end whether a cell needs more lines"() {
        expect:
        kernel.isComplete('int a = 1;') == 'complete'
        kernel.isComplete('void f() {') == ''
        kernel.isComplete('%%dsl\nwalk(l2).findAll {') == ''
        kernel.isComplete('%%dsl\ninfo') == 'complete'
    }
}
