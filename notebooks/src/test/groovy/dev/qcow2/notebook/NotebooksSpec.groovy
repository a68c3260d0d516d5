package dev.qcow2.notebook

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Executes every notebook headlessly as CI does (/usr/bin/jupyter nbconvert --execute, Debian's
 * jupyter-nbconvert + jupyter-client, which .ci/run installs), with the kernelspec installed
 * (with its AOT cache) into a test JUPYTER_PATH ({@link TestKernels}); and measures kernel start
 * to first result with jupyter_client.
 * Fails (does not skip) when Jupyter is missing.
 */
class NotebooksSpec extends Specification {
    static final String JUPYTER = '/usr/bin/jupyter'
    static final Path MODULE = Path.of(System.getProperty('user.dir'))
    static final List<String> NOTEBOOKS = ['01-triage', '02-repair', '03-snapshots', '04-memory', '05-rescue']

    @Shared @TempDir Path tmp
    @Shared Map<String, Object> executed = [:]
    @Shared Map<String, String> env

    def setupSpec() {
        assert Files.isExecutable(Path.of(JUPYTER)): "$JUPYTER is missing: apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client"
        env = TestKernels.env(TestKernels.jupyterPath('message'), tmp)
        // the notebooks' work directories (Files.createTempDirectory) go under this spec's directory,
        // not into the machine's /tmp: the kernel's java launcher reads JDK_JAVA_OPTIONS
        env.JDK_JAVA_OPTIONS = "-Djava.io.tmpdir=${Files.createDirectories(tmp.resolve('kernel-tmp'))}".toString()
        Path out = Files.createDirectories(tmp.resolve('out'))
        def cmd = [JUPYTER, 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=120',
                   '--output-dir', out.toString()] + NOTEBOOKS.collect { MODULE.resolve("${it}.ipynb").toString() }
        def r = run(cmd, 300)
        assert r.exit == 0: "nbconvert failed:\n${r.out.readLines().takeRight(15).join('\n')}"
        NOTEBOOKS.each { executed[it] = new JsonSlurper().parse(out.resolve("${it}.ipynb").toFile()) }
    }

    Map run(List<String> cmd, int seconds) {
        def pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        pb.environment().putAll(env)
        def p = pb.start()
        def text = new StringBuilder()
        def reader = Thread.start { text << p.inputStream.text }
        assert p.waitFor(seconds, TimeUnit.SECONDS): "${cmd[0..1].join(' ')} took over $seconds s"
        reader.join()
        [exit: p.exitValue(), out: text.toString()]
    }

    static List<Map> outputs(nb) { nb.cells.findAll { it.cell_type == 'code' }*.outputs.flatten() }

    def "#name: every code cell ran, without an error"() {
        given:
        def nb = executed[name]
        def code = nb.cells.findAll { it.cell_type == 'code' }

        expect:
        code.size() >= 8
        code.every { it.execution_count != null }
        outputs(nb).findAll { it.output_type == 'error' }.collect { it.evalue } == []

        where:
        name << NOTEBOOKS
    }

    def "#name: the outputs hold HTML tables and PNG charts"() {
        given:
        def data = outputs(executed[name]).findAll { it.data }*.data

        expect:
        data.count { it.'text/html' && it.'text/html'.join('').contains('<table class="qcow2">') } >= 2
        data.count { it.'image/png' } >= 2

        where:
        name << NOTEBOOKS
    }

    def "#name: the stored notebook has its outputs, and no temporary paths in them"() {
        given:
        def stored = new JsonSlurper().parse(MODULE.resolve("${name}.ipynb").toFile())
        String text = groovy.json.JsonOutput.toJson(outputs(stored))

        expect:
        outputs(stored).any { it.data?.'image/png' }
        !text.contains(System.getProperty('java.io.tmpdir') + '/')
        !text.contains('/tmp/')

        where:
        name << NOTEBOOKS
    }

    def "the kernel starts and answers its first cell (start-up time recorded in target/kernel-start.txt, not asserted)"() {
        given: 'three starts of the installed kernel (with its AOT cache); the fastest tells the least disturbed'
        Path script = tmp.resolve('first-result.py')
        Files.writeString(script, '''
            import time
            from jupyter_client.manager import KernelManager
            for attempt in range(3):
                t0 = time.monotonic()
                km = KernelManager(kernel_name='qcow2-java'); km.start_kernel()
                kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
                ready = time.monotonic() - t0
                msg = kc.execute('6 * 7')
                while True:
                    m = kc.get_iopub_msg(timeout=60)
                    if m['parent_header'].get('msg_id') == msg and m['msg_type'] == 'execute_result':
                        value = m['content']['data']['text/plain']; break
                first = time.monotonic() - t0
                kc.stop_channels(); km.shutdown_kernel(now=True)
                print(f"{ready:.2f} {first:.2f} {value}")
            '''.stripIndent())

        when:
        def r = run(['/usr/bin/python3', script.toString()], 180)
        def runs = r.out.readLines().findAll { it ==~ /[\d.]+ [\d.]+ \S+/ }*.split(' ')
        def best = runs.min { it[1] as double }
        def load = Files.readString(Path.of('/proc/loadavg')).split(' ')[0]
        String line = "first result ${runs*.getAt(1).join(' / ')} s (fastest ${best[1]} s, ready after ${best[0]} s), load average ${load}"
        Files.writeString(MODULE.resolve('target/kernel-start.txt'), line + '\n')
        println "kernel start: $line"

        then:
        r.exit == 0
        runs.size() == 3
        runs.every { it[2] == '42' }
    }
}
