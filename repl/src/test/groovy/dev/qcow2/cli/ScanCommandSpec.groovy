package dev.qcow2.cli

import dev.qcow2.testing.Fleet
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * qcow2 scan and qcow2 hash against qemu-img over a mixed directory ({@link Fleet}): the records'
 * facts equal qemu-img info's, their check counters qemu-img check's, their digests sha256 of
 * qemu-img convert -O raw; nothing is modified; exit status is the worst check result.
 */
class ScanCommandSpec extends Specification {
    @Shared @TempDir Path tmp
    @Shared Path fleet
    @Shared Map<String, String> before
    @Shared Cli.Result scan
    @Shared List<Map> records

    def setupSpec() {
        Qemu.requireTools()
        fleet = tmp.resolve('fleet')
        Fleet.build(fleet)
        before = Fleet.digests(fleet)
        scan = Cli.run('scan', '--output=json', '--hash=sha256,md5', '--snapshots', '--jobs=3', fleet, fleet.resolve('notes.txt'))
        records = scan.out.readLines().collect { new JsonSlurper().parseText(it) as Map }
    }

    def "a scan modifies no file"() {
        expect:
        Fleet.digests(fleet) == before
    }

    def "one record per qcow2 file of the walk, in walk order, plus the named non-qcow2 file; the rest is skipped"() {
        expect:
        records*.path == ['chains/base-0.qcow2', 'chains/overlay-0.qcow2', 'clean-0.qcow2', 'compressed-0.qcow2',
                          'corrupt-0.qcow2', 'dangling.qcow2', 'leaky-0.qcow2', 'orphan.qcow2', 'snapshot-0.qcow2',
                          'notes.txt'].collect { fleet.resolve(it).toString() }
        records.every { it.type == 'image-scan' }
        records.every { it.keySet() as List == FIELDS }
    }

    def "#name: info facts and check counters equal qemu-img's"() {
        given:
        Path f = fleet.resolve(name)
        Map r = records.find { it.path == f.toString() }
        def info = new JsonSlurper().parseText(Qemu.img('info', '-U', '--output=json', f.toString()).out)
        def checkRun = Qemu.img(['check', '-U', '--output=json', f.toString()], false)
        def check = new JsonSlurper().parseText(checkRun.out)

        expect:
        r.format == 'qcow2'
        r.file_size == Files.size(f)
        r.virtual_size == info.'virtual-size'
        r.cluster_size == info.'cluster-size'
        r.compat == info.'format-specific'.data.compat
        r.compression_type == info.'format-specific'.data.'compression-type'
        (r.snapshots.collect { [it.id, it.name, it.vm_state_size] }) == (info.snapshots ?: []).collect { [it.id, it.name, it.'vm-state-size'] }
        r.backing*.name == (info.'backing-filename' ? [info.'backing-filename'] : [])
        r.check.exit_code == checkRun.exit
        r.check.exit_code == exit
        r.check.check_errors == check.'check-errors'
        r.check.corruptions == (check.corruptions ?: 0)
        r.check.leaks == (check.leaks ?: 0)
        r.check.total_clusters == (check.'total-clusters' ?: 0)
        r.check.allocated_clusters == (check.'allocated-clusters' ?: 0)
        r.check.fragmented_clusters == (check.'fragmented-clusters' ?: 0)
        r.check.compressed_clusters == (check.'compressed-clusters' ?: 0)
        r.check.image_end_offset == check.'image-end-offset'
        r.leaked_clusters == leaked
        r.unreferenced_clusters == leaked
        r.error == null

        where:
        name                     | exit | leaked
        'clean-0.qcow2'          | 0    | 0
        'leaky-0.qcow2'          | 3    | 1
        'corrupt-0.qcow2'        | 2    | 0
        'compressed-0.qcow2'     | 0    | 0
        'snapshot-0.qcow2'       | 0    | 0
        'chains/base-0.qcow2'    | 0    | 0
        'chains/overlay-0.qcow2' | 0    | 0
    }

    def "#name: digests equal sha256sum/md5sum of qemu-img convert -O raw (active state and each snapshot)"() {
        given:
        Path f = fleet.resolve(name)
        Map r = records.find { it.path == f.toString() }
        byte[] raw = Qemu.rawBytes(f)

        expect:
        r.hashes.sha256 == Sha256.of(raw)
        r.hashes.md5 == java.security.MessageDigest.getInstance('MD5').digest(raw).encodeHex().toString()
        r.snapshots.every { it.hashes.sha256 == Sha256.of(Qemu.rawBytes(f, it.name as String)) }

        where:
        name << ['clean-0.qcow2', 'compressed-0.qcow2', 'snapshot-0.qcow2', 'chains/overlay-0.qcow2', 'leaky-0.qcow2']
    }

    def "failures are records: a dangling link, a missing backing file (hashing needs it), a named non-qcow2 file as raw"() {
        given:
        Map dangling = records.find { it.path.endsWith('dangling.qcow2') }
        Map orphan = records.find { it.path.endsWith('orphan.qcow2') }
        Map notes = records.find { it.path.endsWith('notes.txt') }

        expect:
        dangling.error == "${fleet.resolve('dangling.qcow2')}: No such file or directory".toString()
        dangling.check == null
        orphan.backing == [[depth: 1, name: 'missing.qcow2', path: fleet.resolve('missing.qcow2').toString(), format: 'qcow2', resolved: false]]
        orphan.check.exit_code == 0
        orphan.error.startsWith('hash: ')
        notes.format == 'raw'
        notes.virtual_size == 13
        notes.hashes.sha256 == Sha256.of(fleet.resolve('notes.txt'))
        notes.error == null
        scan.exit == 1
    }

    def "exit status is the worst check result: #files -> #exit"() {
        when:
        def r = Cli.run(['scan'] + files.collect { fleet.resolve(it) })

        then:
        r.exit == exit
        r.out.readLines().last() ==~ summary

        where:
        files                                                  | exit | summary
        ['clean-0.qcow2', 'compressed-0.qcow2']                | 0    | /2 images: 2 clean, 0 with leaks, 0 corrupt, 0 failed; 0 not qcow2 \(.* s\)/
        ['clean-0.qcow2', 'leaky-0.qcow2']                     | 3    | /2 images: 1 clean, 1 with leaks, 0 corrupt, 0 failed; 0 not qcow2 \(.* s\)/
        ['leaky-0.qcow2', 'corrupt-0.qcow2']                   | 2    | /2 images: 0 clean, 1 with leaks, 1 corrupt, 0 failed; 0 not qcow2 \(.* s\)/
        ['corrupt-0.qcow2', 'dangling.qcow2', 'notes.txt']     | 1    | /2 images: 0 clean, 0 with leaks, 1 corrupt, 1 failed; 1 not qcow2 \(.* s\)/
    }

    def "the human table has a row per image with its check result and backing file"() {
        when:
        def r = Cli.run('scan', fleet.resolve('chains'), fleet.resolve('leaky-0.qcow2'), fleet.resolve('orphan.qcow2'))
        def lines = r.out.readLines()

        then:
        lines[0].startsWith('PATH')
        lines.find { it.contains('overlay-0.qcow2') }.contains('base-0.qcow2')
        lines.find { it.contains('leaky-0.qcow2') }.contains('1 leaks')
        lines.find { it.contains('orphan.qcow2') }.contains('missing.qcow2 (missing)')
        lines.size() == 6
        r.err == ''
    }

    def "records do not depend on --jobs (timing aside)"() {
        when:
        def one = Cli.run('scan', '--output=json', '--jobs=1', '--hash=sha1', fleet)
        def four = Cli.run('scan', '--output=json', '--jobs=4', '--hash=sha1', fleet)

        then:
        untimed(one.out) == untimed(four.out)
        untimed(one.out).size() == 9
    }

    def "--follow-backing lists every layer of a chain"() {
        given:
        Path top = fleet.resolve('chains/top.qcow2')
        Qemu.create(top, '4M', null, ['-b', 'overlay-0.qcow2', '-F', 'qcow2'])

        when:
        def shallow = new JsonSlurper().parseText(Cli.run('scan', '--output=json', top).out)
        def deep = new JsonSlurper().parseText(Cli.run('scan', '--output=json', '--follow-backing', top).out)

        then:
        shallow.backing*.name == ['overlay-0.qcow2']
        deep.backing.collect { [it.depth, it.name, it.resolved] } == [[1, 'overlay-0.qcow2', true], [2, 'base-0.qcow2', true]]

        cleanup:
        Files.deleteIfExists(top)
    }

    def "qcow2 hash #args prints what sha256sum/md5sum print for the qemu-img export"() {
        given:
        Path f = fleet.resolve('snapshot-0.qcow2')
        byte[] raw = Qemu.rawBytes(f, snapshot)

        when:
        def r = Cli.run(['hash'] + args + [f])

        then:
        r.exit == 0
        r.out == expected.call(raw, f.toString())

        where:
        args                      | snapshot | expected
        []                        | null     | { byte[] b, String p -> "${Sha256.of(b)}  $p\n".toString() }
        ['-l', 'before']          | 'before' | { byte[] b, String p -> "${Sha256.of(b)}  $p\n".toString() }
        ['--algo=md5']            | null     | { byte[] b, String p -> "${java.security.MessageDigest.getInstance('MD5').digest(b).encodeHex()}  $p\n".toString() }
    }

    def "bad input is one line: #args"() {
        when:
        def r = Cli.run(args.collect { it.replace('FLEET', fleet.toString()) })

        then:
        r.exit != 0
        r.out == ''
        r.err.readLines().size() == 1
        r.err.contains(message)

        where:
        args                                                   | message
        ['hash', '--algo=crc32', 'FLEET/clean-0.qcow2']        | "unknown hash algorithm 'crc32'"
        ['hash', '-l', 'nope', 'FLEET/clean-0.qcow2']          | 'nope'
        ['hash', 'FLEET/dangling.qcow2']                       | 'No such file or directory'
        ['scan', '--snapshots', 'FLEET']                       | '--snapshots needs --hash'
        ['scan', '--jobs=0', 'FLEET']                          | '--jobs must be at least 1'
        ['scan', '--hash=sha256,crc', 'FLEET']                 | "unknown hash algorithm 'crc'"
        ['scan', '--out=x', 'FLEET']                           | '--out is for --spark runs'
    }

    def "every record reads back from its JSON line (what the human table of a --spark run renders)"() {
        expect:
        scan.out.readLines().every { line ->
            def m = new groovy.json.JsonSlurper().parseText(line) as Map
            dev.qcow2.scan.ScanRecord.fromJson(m).jsonLine() == line
        }
        scan.out.readLines().size() >= 10     // clean, leaky, corrupt, compressed, snapshots with hashes, chains, failures, raw

        when: 'a field of the wrong shape'
        dev.qcow2.scan.ScanRecord.fromJson([path: 'x', file_size: 'big'])

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'expected an integer: big'
    }

    static final List<String> FIELDS = ['type', 'path', 'file_size', 'format', 'virtual_size', 'cluster_size', 'compat',
                                        'features', 'encryption', 'compression_type', 'backing', 'snapshots', 'check',
                                        'leaked_clusters', 'unreferenced_clusters', 'hashes', 'error', 'scan_ms']

    static List<String> untimed(String jsonLines) {
        jsonLines.readLines().collect { it.replaceAll(/"scan_ms":\d+/, '"scan_ms":0') }
    }
}
