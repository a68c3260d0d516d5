package dev.qcow2.rescue

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Damage
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@link Carver} on images made by qemu-img/qemu-io in which clusters are left unreferenced on
 * purpose (snapshot delete, discard, a rewritten compressed cluster, a crash-style leak), each row
 * checking the kind, status and guest range against what the commands did, the carved files
 * against the manifest, and that the image is byte for byte unchanged. QEMU's own discard
 * passthrough (which punches the freed clusters out of the file) is switched off, as on storage
 * without discard: otherwise there is nothing left to carve.
 */
class CarveSpec extends Specification {
    @TempDir Path dir

    def setupSpec() { Qemu.requireTools() }

    /** qemu-io --image-opts OPTS -c CMD...: options Qemu.io cannot pass (discard modes). */
    static void ioOpts(String opts, List<String> commands) {
        def args = [Qemu.QEMU_IO, '--image-opts']
        commands.each { args += ['-c', it] }
        def r = Qemu.run(args + [opts])
        assert r.exit == 0 && !r.out.contains('error') && !r.err: "qemu-io $commands failed: $r"
    }

    static String pattern(int b, int n = 65536) { Sha256.of(([(byte) b] * n) as byte[]) }

    /** guest offset -> host offset, from qemu-img map. */
    static Map<Long, Long> hostMap(Path img) {
        def m = [:]
        new JsonSlurper().parseText(Qemu.img('map', '--output=json', img.toString()).out).each { e ->
            if (e.data && e.offset != null) for (long g = 0; g < e.length; g += 65536) m[(long) e.start + g] = (long) e.offset + g
        }
        m
    }

    Path snapshotDeleted() {
        def img = Qemu.create(dir.resolve('snap.qcow2'), '4M')
        Qemu.io(img, 'write -P 0xaa 0 256k')
        Qemu.img('snapshot', '-c', 's1', img.toString())
        Qemu.io(img, 'write -P 0xbb 0 64k')
        Qemu.img('snapshot', '-d', 's1', '--image-opts', "driver=qcow2,file.filename=$img,pass-discard-snapshot=off".toString())
        img
    }

    def "a deleted snapshot leaves its snapshot table, L1, L2 copy and the data it kept: each named, with the guest range and the snapshot"() {
        given:
        def img = snapshotDeleted()
        def sha = Sha256.of(img)

        when:
        def r = Carver.analyse(img)
        def byKind = r.runs().groupBy { it.provenance().kind() }

        then:
        r.warnings().isEmpty()
        r.runs()*.status().every { it == CarveStatus.FREE }
        byKind.keySet() == ['l2-table', 'freed-data', 'l1-table', 'snapshot-table'] as Set
        with(byKind['l2-table'][0].provenance() as Provenance.OldL2Table) {
            guestOffset() == 0
            snapshot() == 's1'
            normal() == 4
        }
        with(byKind['freed-data'][0]) {
            (provenance() as Provenance.FreedData).guestOffset() == 0
            (provenance() as Provenance.FreedData).snapshot() == 's1'
            sha256() == pattern(0xaa)
        }
        (byKind['l1-table'][0].provenance() as Provenance.OldL1Table).snapshot() == 's1'
        (byKind['snapshot-table'][0].provenance() as Provenance.OldSnapshotTable).snapshots() == ["'s1' (id 1)"]
        Sha256.of(img) == sha
    }

    def "an active L1 zeroed: the orphaned L2 table's guest range is inferred from the data it shares with the snapshot, and the data only it mapped is carved"() {
        given:
        def img = Qemu.create(dir.resolve('l1.qcow2'), '4M')
        Qemu.io(img, 'write -P 0xaa 0 256k')
        Qemu.img('snapshot', '-c', 's1', img.toString())
        Qemu.io(img, 'write -P 0xbb 0 64k')
        long l1 = Damage.getLong(img, Damage.L1_TABLE_OFFSET)
        Damage.putLong(img, l1, 0)
        def sha = Sha256.of(img)

        when:
        def r = Carver.analyse(img)
        def byKind = r.runs().groupBy { it.provenance().kind() }

        then:
        byKind.keySet() == ['l2-table', 'freed-data'] as Set
        r.runs()*.status().every { it == CarveStatus.LEAKED }
        with(byKind['l2-table'][0].provenance() as Provenance.OldL2Table) {
            guestOffset() == 0
            how().startsWith('inferred: 3 of its data clusters')
            snapshot() == null
        }
        (byKind['freed-data'][0].provenance() as Provenance.FreedData).guestOffset() == 0
        byKind['freed-data'][0].sha256() == pattern(0xbb)
        Sha256.of(img) == sha
    }

    def "#what: status #status, kind #kind, the bytes the guest wrote"() {
        given:
        def img = Qemu.create(dir.resolve('i.qcow2'), '4M')
        Qemu.io(img, "write -P $fill 0 512k".toString())
        long host = hostMap(img)[65536L]
        make(img)
        def sha = Sha256.of(img)

        when:
        def r = Carver.analyse(img)

        then:
        r.runs().size() == 1
        with(r.runs()[0]) {
            hostOffset() == host
            length() == 65536
            it.status() == status
            provenance().kind() == kind
            sha256() == pattern(fill)
        }
        Sha256.of(img) == sha

        where:
        what                                               | fill | status              | kind      | make
        'discard (freed data, no hole punched)'            | 0x11 | CarveStatus.FREE    | 'unknown' | { Path i -> ioOpts("driver=qcow2,file.filename=$i,discard=unmap,pass-discard-request=off", ['discard 64k 64k']) }
        'crash between refcount and L2 update (leaked)'    | 0x22 | CarveStatus.LEAKED  | 'unknown' | { Path i -> clearL2Entry(i, 1) }
    }

    /** Clears guest cluster {@code index}'s L2 entry: the cluster stays counted but unreferenced, as a crash after the refcount update and before the L2 write leaves it. */
    static void clearL2Entry(Path img, int index) {
        long l1 = Damage.getLong(img, Damage.getLong(img, Damage.L1_TABLE_OFFSET)) & 0x00ff_ffff_ffff_fe00L
        Damage.putLong(img, l1 + 8 * index, 0)
    }

    def "a compressed cluster freed by a rewrite: its streams are found, decompressed with the image's codec and described"() {
        given:
        def raw = dir.resolve('t.raw')
        def text = new StringBuilder()
        for (int i = 0; text.length() < (1 << 20); i++) text.append(String.format('line %06d of the guest text file%n', i))
        Files.write(raw, text.toString().bytes[0..<(1 << 20)] as byte[])
        def img = dir.resolve('c.qcow2')
        Qemu.img('convert', '-c', '-O', 'qcow2', '-o', "compression_type=$type".toString(), raw.toString(), img.toString())
        ioOpts("driver=qcow2,file.filename=$img,pass-discard-other=off", ['write -P 0xcc 0 1M'])
        def sha = Sha256.of(img)

        when:
        def streams = Carver.analyse(img).runs().findAll { it.provenance() instanceof Provenance.CompressedStream }*.provenance()

        then:
        streams.size() >= 1
        streams.every { it.decompressesTo().startsWith('text') }
        streams.sum { it.streams() } >= minStreams
        Sha256.of(img) == sha

        where:
        type   | minStreams
        'zlib' | 16   // streams chain (each one's end is where the next starts): every one is found
        'zstd' | 16
    }

    def "carve writes one file per run and a manifest whose sha256s match the files; the image is unchanged"() {
        given:
        def img = snapshotDeleted()
        def sha = Sha256.of(img)
        def out = dir.resolve('carved')

        when:
        def r = Carver.carve(img, out)
        def manifest = new JsonSlurper().parse(out.resolve('manifest.json').toFile())

        then:
        manifest.runs.size() == 4
        manifest.runs.every { run -> run.file != null && Sha256.of(out.resolve(run.file as String)) == run.sha256 && Files.size(out.resolve(run.file as String)) == run.length }
        manifest.runs.find { it.kind == 'l2-table' }.'guest-offset' == 0
        manifest.runs.find { it.kind == 'freed-data' }.snapshot == 's1'
        (r.runs()*.file() as Set) == (manifest.runs*.file as Set)
        Files.list(out).count() == 5
        Sha256.of(img) == sha
    }

    def "a leaked zero cluster is listed without a file; free zero clusters are only counted"() {
        given:
        def img = Qemu.create(dir.resolve('z.qcow2'), '4M')
        Qemu.io(img, 'write -z 0 64k', 'write -P 1 64k 64k')
        Qemu.io(img, 'write -P 0 0 64k')   // an allocated cluster of zeros
        long host = hostMap(img)[0L]
        clearL2Entry(img, 0)
        def out = dir.resolve('o')

        when:
        def r = Carver.carve(img, out)

        then:
        r.runs().size() == 1
        r.runs()[0].hostOffset() == host
        r.runs()[0].provenance() instanceof Provenance.Zeros
        r.runs()[0].file() == null
        Files.list(out).count() == 1
    }

    def "bad input: #what is one line naming the file"() {
        given:
        def img = snapshotDeleted()
        def target = dir.resolve('t')
        prepare(dir, img, target)

        when:
        Carver.carve(what == 'not a qcow2 image' ? dir.resolve('junk') : img, target)

        then:
        def e = thrown(Qcow2Exception)
        e.message.readLines().size() == 1
        e.message.contains(message)

        where:
        what                 | message                                 | prepare
        'not a qcow2 image'  | 'cannot carve without a qcow2 header'   | { Path d, Path i, Path t -> byte[] b = new byte[1 << 20]; new Random(1).nextBytes(b); Files.write(d.resolve('junk'), b) }
        'a non-empty OUTDIR' | 'directory is not empty'                | { Path d, Path i, Path t -> Files.createDirectories(t); Files.writeString(t.resolve('x'), 'x') }
        'OUTDIR is a file'   | 'not a directory'                       | { Path d, Path i, Path t -> Files.writeString(t, 'x') }
    }

    def "a dirty image with corrupt refcounts is carved as it is: nothing repaired, the image unchanged"() {
        given:
        def img = snapshotDeleted()
        Damage.putLong(img, Damage.getLong(img, Damage.REFCOUNT_TABLE_OFFSET), 0x12200)   // reftable entry 0 unaligned (no reserved bits)
        Damage.putLong(img, 72, Damage.getLong(img, 72) | 1)                                 // incompatible: dirty
        def sha = Sha256.of(img)

        when:
        def r = Carver.analyse(img)

        then: 'the damaged entry is a warning; its refcount block, no longer followed, is listed too'
        r.warnings().any { it.contains('refcount table entry 0 is damaged (unaligned)') }
        r.runs().findAll { it.provenance().kind() != 'refcount-block' }*.provenance()*.kind() as Set == ['l2-table', 'freed-data', 'l1-table', 'snapshot-table'] as Set
        r.runs()*.status().every { it == CarveStatus.UNCOVERED }
        Sha256.of(img) == sha
    }
}
