package dev.qcow2.cli

import dev.qcow2.repair.RefcountEditor

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import picocli.CommandLine
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/** {@code qcow2 check}: output, stderr detail lines and exit codes as qemu-img check's. */
class CheckCommandSpec extends Specification {
    @TempDir Path dir

    static class Result { int exit; String out; String err }

    Result qcow2(String... args) {
        def out = new StringWriter(), err = new StringWriter()
        def cli = Main.commandLine(false, args)
        cli.setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
        int exit = cli.execute(args)
        new Result(exit: exit, out: out.toString(), err: err.toString())
    }


    Path image(String name, List<String> io = ['write -P 1 0 1M', 'write -c 2M 64k']) {
        Path p = dir.resolve(name)
        Qemu.create(p, '8M')
        Qemu.io(p, io)
        p
    }

    /** Appends one cluster to the file and gives it refcount 1: a leak and nothing else. */
    static int leakOneCluster(Path p) { (int) RefcountEditor.leakOneCluster(p, new byte[0]) }

    static void setRefcount(Path p, int cluster, int value) { RefcountEditor.set(p, cluster, value) }

    def "a clean image prints qemu-img's human summary and exits 0"() {
        given:
        Path p = image('clean.qcow2')
        def before = Sha256.of(p)
        def ref = Qemu.img(['check', p.toString()], false)

        when:
        def r = qcow2('check', p.toString())

        then:
        r.exit == 0
        r.out == ref.out
        r.out.startsWith('No errors were found on the image.\n')
        r.err == ''
        Sha256.of(p) == before
    }

    def "JSON has qemu-img's keys and values plus an empty findings list"() {
        given:
        Path p = image('clean.qcow2')
        def refRun = Qemu.img(['check', '--output=json', p.toString()], false)
        def ref = refRun.json()

        when:
        def r = qcow2('check', '--output=json', p.toString())
        def json = new JsonSlurper().parseText(r.out)

        then:
        r.exit == 0
        json.findings == []
        json.findAll { it.key != 'findings' } == ref
        // qemu-img's own text, byte for byte, once our findings member is taken out
        r.out.replaceAll(/,\n    "findings": \[\n    \]/, '') == refRun.out
    }

    def "leaked clusters: detail lines on stderr, the leak summary, exit 3"() {
        given:
        Path p = image('leak.qcow2')
        leakOneCluster(p)
        def ref = Qemu.img(['check', p.toString()], false)

        when:
        def r = qcow2('check', p.toString())

        then:
        ref.exit == 3
        r.exit == 3
        r.out == ref.out
        r.err.readLines() == ref.err.readLines()
        r.out.contains('leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.')
    }

    def "corruptions: JSON counters as qemu-img's, typed findings, exit 2"() {
        given:
        Path p = image('corrupt.qcow2')
        setRefcount(p, 4, 0)
        def ref = Qemu.img(['check', '--output=json', p.toString()], false)

        when:
        def r = qcow2('check', '--output=json', p.toString())
        def json = new JsonSlurper().parseText(r.out)

        then:
        ref.exit == 2
        r.exit == 2
        json.findAll { it.key != 'findings' } == ref.json()
        json.findings.every { it.type && it.structure && it.message }
        json.findings*.type.contains('refcount-too-low')
        json.findings.find { it.type == 'refcount-too-low' }.cluster == 4
        r.err.readLines() == ref.err.readLines()
    }

    def "a check that cannot complete exits 1 with one Check failed line and no report"() {
        given: 'snapshot extra data larger than QEMU accepts'
        Path p = image('snap.qcow2', ['write 0 64k'])
        Qemu.img('snapshot', '-c', 's1', p.toString())
        new RandomAccessFile(p.toFile(), 'rw').withCloseable { f -> f.seek(64); long so = f.readLong(); f.seek(so + 36); f.writeInt(2000) }

        when:
        def r = qcow2('check', p.toString())

        then:
        Qemu.img(['check', p.toString()], false).exit == 1
        r.exit == 1
        r.out == ''
        r.err.readLines().last() == "qcow2: ${p}: Check failed: File too large".toString()
    }

    def "-q prints nothing on stdout but keeps the exit code"() {
        given:
        Path p = image('leak.qcow2')
        int leaked = leakOneCluster(p)

        expect:
        with(qcow2('check', '-q', '-U', '-f', 'qcow2', p.toString())) {
            exit == 3 && out == '' && err.contains("Leaked cluster $leaked refcount=1 reference=0")
        }
    }

    def "#what is refused with one line and exit #code"() {
        given:
        Path p = image('x.qcow2')
        Path raw = dir.resolve('raw.img')
        Files.write(raw, new byte[4096])
        args = args.collect { it.replace('IMG', p.toString()).replace('RAW', raw.toString()) }

        when:
        def r = qcow2(args as String[])

        then:
        r.exit == code
        r.out == ''
        r.err.readLines().size() == lines
        r.err.readLines()[0].contains(message)

        where:
        what                     | args                                | code | lines | message
        'a bad -r value'         | ['check', '-r', 'some', 'IMG']      | 1    | 1     | "Unknown option value for -r (expecting 'leaks' or 'all'): some"
        'a raw file'             | ['check', 'RAW']                    | 63   | 1     | 'This image format does not support checks'
        '-f raw'                 | ['check', '-f', 'raw', 'IMG']       | 63   | 1     | 'This image format does not support checks'
        'a missing file'         | ['check', '/nonexistent/x.qcow2']   | 1    | 1     | 'No such file or directory'
        'a bad --output'         | ['check', '--output=xml', 'IMG']    | 1    | 2     | '--output must be used with human or json as argument.'
    }
}
