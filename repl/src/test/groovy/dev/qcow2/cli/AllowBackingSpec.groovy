package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code --allow-backing}: every command that follows the files named inside an image refuses a
 * name that leads outside the image's directory with one line (which file, named by which image,
 * how to allow it), changes nothing, and exits 1 (compare: 2, its open-error status, as qemu-img);
 * with {@code --allow-backing=DIR} it does what qemu-img does (qemu-img follows every name).
 * Each run gets two identical chains, ours and theirs: ROOT/ev/top.qcow2 over ROOT/outside/base.qcow2,
 * named by its absolute path, and ROOT/outside/other.qcow2 (named on the command line: trusted).
 */
class AllowBackingSpec extends Specification {
    @TempDir Path tmp

    static Map<String, Path> chain(Path dir) {
        Path root = Files.createDirectories(dir).toRealPath()
        Path ev = Files.createDirectories(root.resolve('ev'))
        Path outside = Files.createDirectories(root.resolve('outside'))
        Path base = Qemu.create(outside.resolve('base.qcow2'), '2M')
        Qemu.io(base, 'write -P 0x11 0 2M')
        Path other = Qemu.create(outside.resolve('other.qcow2'), '2M')
        Qemu.io(other, 'write -P 0x55 0 1M')
        Path top = Qemu.create(ev.resolve('top.qcow2'), '2M', null, ['-b', base.toString(), '-F', 'qcow2'])
        Qemu.io(top, 'write -P 0x33 0 4k', 'write -z 128k 64k')
        [root: root, ev: ev, outside: outside, base: base, other: other, top: top, out: root.resolve('out.img')]
    }

    static List<String> expand(List<String> args, Map<String, Path> c) {
        args.collect { a -> a.replace('TOP', c.top.toString()).replace('OTHER', c.other.toString()).replace('OUT', c.out.toString()) }
    }

    static Map<String, String> hashes(Map<String, Path> c) {
        [c.top, c.base, c.other].collectEntries { [(it.fileName.toString()): Sha256.of(it)] }
    }

    /**
     * Our JSON equals qemu-img's in every key qemu-img 7.2 prints (map adds current QEMU's
     * "compressed", check a findings array: see the README's known differences).
     */
    static boolean sameJson(String ours, String theirs) {
        def o = withoutAllocation(new JsonSlurper().parseText(ours))
        def t = withoutAllocation(new JsonSlurper().parseText(theirs))
        if (t instanceof List) return o instanceof List && o.size() == t.size() && [o, t].transpose().every { a, b -> a.subMap(b.keySet()) == b }
        if (t instanceof Map) return o.subMap(t.keySet()) == t
        o == t
    }

    /** "actual-size" is the file system's allocation of two separate copies (st_blocks), not ours to match. */
    static Object withoutAllocation(Object json) {
        if (json instanceof Map) return json.findAll { k, v -> k != 'actual-size' }.collectEntries { k, v -> [k, withoutAllocation(v)] }
        if (json instanceof List) return json.collect { withoutAllocation(it) }
        json
    }

    static String refusal(Map<String, Path> c) {
        "qcow2: ${c.top}: backing file ${c.base} is outside ${c.ev} (not opened); allow it with --allow-backing=${c.outside}"
    }

    def "qcow2 #args without --allow-backing: one line, exit #refusedExit, nothing written; with it: as qemu-img"() {
        given:
        def ours = chain(tmp.resolve('ours'))
        def theirs = chain(tmp.resolve('theirs'))
        def before = hashes(ours)

        when: 'the name inside the image leads outside its directory'
        def refused = Cli.run(expand(args, ours))

        then:
        refused.exit == refusedExit
        refused.err.readLines() == [refusal(ours)]
        refused.out == ''
        hashes(ours) == before
        !Files.exists(ours.out)

        when: 'allowed'
        def run = Cli.run([args[0], "--allow-backing=${ours.outside}"] + expand(args.drop(1), ours))
        def ref = Qemu.run([Qemu.QEMU_IMG] + expand(args, theirs))

        then:
        run.exit == ref.exit
        run.err == ''
        json ? sameJson(run.out.replace(ours.root.toString(), theirs.root.toString()), ref.out)
             : run.out.replace(ours.root.toString(), theirs.root.toString()) == ref.out
        [ours.top, ours.base, ours.other].every { Arrays.equals(Qemu.rawBytes(it), Qemu.rawBytes(theirs.root.resolve(ours.root.relativize(it)))) }
        Files.exists(ours.out) == Files.exists(theirs.out)
        !Files.exists(ours.out) || Arrays.equals(Files.readAllBytes(ours.out), Files.readAllBytes(theirs.out))

        where:
        args                                                  | refusedExit | json
        ['info', '--backing-chain', '--output=json', 'TOP']   | 1           | true
        ['map', '--output=json', 'TOP']                       | 1           | true
        ['check', 'TOP']                                      | 1           | false
        ['check', '--output=json', 'TOP']                     | 1           | true
        ['convert', '-O', 'raw', 'TOP', 'OUT']                | 1           | false
        ['compare', 'TOP', 'OTHER']                           | 2           | false
        ['measure', '--output=json', '-O', 'qcow2', 'TOP']    | 1           | true
        ['commit', 'TOP']                                     | 1           | false
        ['rebase', '-b', 'OTHER', '-F', 'qcow2', 'TOP']       | 1           | false
        ['resize', 'TOP', '3M']                               | 1           | false
        ['amend', '-o', 'size=3M', 'TOP']                     | 1           | false
        ['bitmap', '--add', 'TOP', 'b0']                      | 1           | false
        ['check', '-r', 'all', 'TOP']                         | 1           | false
    }

    def "qcow2 #args: refused without --allow-backing, allowed with it (no qemu-img twin: #why)"() {
        given:
        def ours = chain(tmp.resolve('ours'))
        def theirs = chain(tmp.resolve('theirs'))
        def before = hashes(ours)

        when:
        def refused = Cli.run(expand(args, ours))

        then:
        refused.exit == 1
        refused.err.readLines() == [refusal(ours)]
        hashes(ours) == before

        when:
        def run = Cli.run([args[0], "--allow-backing=${ours.outside}"] + expand(args.drop(1), ours))
        twin(theirs)

        then:
        run.exit == 0
        run.err == ''
        check(run, theirs)
        Arrays.equals(Qemu.rawBytes(ours.top), Qemu.rawBytes(theirs.top))

        where:
        args                                        | why                     | twin                                                  | check
        ['io', '-c', 'write -P 0x66 0 4k', 'TOP']   | 'qemu-io does the same' | { Map t -> Qemu.io(t.top, 'write -P 0x66 0 4k') }     | { r, t -> r.out.contains('wrote 4096/4096 bytes at offset 0') }
        ['hash', 'TOP']                             | 'sha256 of qemu-img convert' | { Map t -> }                                     | { r, t -> r.out.startsWith(java.security.MessageDigest.getInstance('SHA-256').digest(Qemu.rawBytes(t.top)).encodeHex().toString() + '  ') }
        ['bench', '-c', '4', 'TOP']                 | 'timings differ'        | { Map t -> }                                          | { r, t -> r.out.contains('Run completed in') }
    }

    def "--allow-backing=any follows every name, as qemu-img"() {
        given:
        def ours = chain(tmp.resolve('ours'))

        when:
        def run = Cli.run('convert', '--allow-backing=any', '-O', 'raw', ours.top, ours.out)

        then:
        run.exit == 0
        Arrays.equals(Files.readAllBytes(ours.out), Qemu.rawBytes(ours.top))
    }

    def "an allowed directory elsewhere does not allow this name; several can be given"() {
        given:
        def ours = chain(tmp.resolve('ours'))
        def elsewhere = Files.createDirectories(ours.root.resolve('elsewhere'))

        when:
        def refused = Cli.run('map', "--allow-backing=$elsewhere", ours.top)
        def allowed = Cli.run('map', "--allow-backing=$elsewhere", "--allow-backing=${ours.outside}", ours.top)

        then:
        refused.exit == 1
        refused.err.trim() == "qcow2: ${ours.top}: backing file ${ours.base} is outside ${ours.ev}, $elsewhere (not opened); " +
                "allow it with --allow-backing=${ours.outside}"
        allowed.exit == 0
    }

    def "info without --backing-chain shows the name as qemu-img does, without opening it"() {
        given:
        def ours = chain(tmp.resolve('ours'))

        when:
        def run = Cli.run('info', '--output=json', ours.top)
        def ref = Qemu.img('info', '--output=json', ours.top.toString())

        then:
        run.exit == 0
        new JsonSlurper().parseText(run.out) == new JsonSlurper().parseText(ref.out)
    }

    def "a backing file inside the image's directory (relative or absolute) needs no option"() {
        given:
        Path root = tmp.toRealPath()
        Path base = Qemu.create(root.resolve('base.qcow2'), '1M')
        Qemu.io(base, 'write -P 0x21 0 64k')
        Path rel = Qemu.create(root.resolve('rel.qcow2'), '1M', null, ['-b', 'base.qcow2', '-F', 'qcow2'])
        Path abs = Qemu.create(root.resolve('abs.qcow2'), '1M', null, ['-b', base.toString(), '-F', 'qcow2'])

        expect:
        [rel, abs].every { img ->
            def r = Cli.run('convert', '-O', 'raw', img, root.resolve(img.fileName.toString() + '.raw'))
            r.exit == 0 && Arrays.equals(Files.readAllBytes(root.resolve(img.fileName.toString() + '.raw')), Qemu.rawBytes(img))
        }
    }

    def "--allow-backing=none is not a CLI word (the CLI has no 'follow nothing' mode)"() {
        given:
        def ours = chain(tmp.resolve('ours'))

        when:
        def r = Cli.run('map', '--allow-backing=none', ours.top)

        then:
        r.exit == 1
        r.err.startsWith('qcow2: --allow-backing: ')
    }

    def "scan --follow-backing lists the refused layer unresolved with the line; --allow-backing follows it"() {
        given:
        def ours = chain(tmp.resolve('ours'))

        when:
        def refused = Cli.run('scan', '--follow-backing', '--output=json', ours.top)
        def allowed = Cli.run('scan', '--follow-backing', "--allow-backing=${ours.outside}", '--output=json', ours.top)
        def r = new JsonSlurper().parseText(refused.out.readLines()[0])
        def a = new JsonSlurper().parseText(allowed.out.readLines()[0])

        then:
        r.backing*.resolved == [false]
        r.error == "${ours.top}: backing file ${ours.base} is outside ${ours.ev} (not opened)"
        a.backing*.resolved == [true]
        a.error == null
    }

    def "qcow2 repl FILE: the same gate, allowed by --allow-backing"() {
        given:
        def ours = chain(tmp.resolve('ours'))

        when:
        def refused = Cli.withInput('info.format\n', ['repl', ours.top])
        def allowed = Cli.withInput('info.format\n', ['repl', "--allow-backing=${ours.outside}", ours.top])

        then:
        refused.exit == 1
        refused.err.contains("${ours.top}: backing file ${ours.base} is outside ${ours.ev} (not opened)")
        allowed.exit == 0
        allowed.out.contains('qcow2')
    }

    def "qcow2 run --allow-backing=DIR SCRIPT: the script's opens without follow: use it"() {
        given:
        def ours = chain(tmp.resolve('ours'))
        Path script = ours.root.resolve('open.groovy')
        Files.writeString(script, "open args[0]\nexit 0\n")

        when:
        def refused = Cli.run('run', script, ours.top)
        def allowed = Cli.run('run', "--allow-backing=${ours.outside}", script, ours.top)

        then:
        refused.exit == 1
        refused.err.contains("${ours.top}: backing file ${ours.base} is outside ${ours.ev} (not opened)")
        allowed.exit == 0
        allowed.err == ''
    }
}
