package dev.qcow2.amend

import dev.qcow2.testing.Qemu
import dev.qcow2.write.CrashingStorage
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/**
 * A crash at many points of a refcount-width change and of a downgrade (with zero clusters to
 * expand, in shared and snapshot L2 tables, over a backing file) leaves an image that qemu-img
 * check finds without corruption (leaks allowed) and whose active disk and snapshots read as
 * before: both operations keep the guest data, so any completed prefix of them must too.
 */
class AmendCrashSpec extends Specification {
    /** One directory for the whole spec, so that the backing file's absolute name stays valid. */
    @Shared Path dir = Files.createTempDirectory('amendcrash')

    static final Map<String, List> CASES = [
            'refcount_bits=4': ['cluster_size=512', ['write -P 0x41 0 100k', 'write -z 40k 20k', 'write -P 0x43 700k 300k',
                                                     'snapshot s1', 'write -P 0x44 50k 100k', 'snapshot s2']],
            'compat=v2'      : ['cluster_size=512', ['write -P 0x11 0 192k', 'write -z 64k 64k', 'write -z -u 128k 32k',
                                                     'snapshot s1', 'write -z 512k 64k', 'write -P 0x33 960k 64k']],
    ]

    def cleanupSpec() { dir.toFile().deleteDir() }

    def "a crash at call #crashAt of #total (#mode) while amending #options keeps the image consistent"() {
        given:
        def image = original(options)
        def storage = new CrashingStorage(Files.readAllBytes(image), crashAt, mode)

        when:
        Amender.amend(storage, null, AmendOptions.parse([options]))

        then:
        thrown(CrashingStorage.Crash)

        when:
        def crashed = dir.resolve("crashed.qcow2")
        Files.write(crashed, storage.afterCrash())
        def check = Qemu.img(['check', crashed.toString()], false)

        then:
        check.exit in [0, 3]
        Qemu.rawBytes(crashed) == content(image, null)
        AmendTwins.snapshots(crashed) == ['s1', 's2'].take(CASES[options][1].count { it.startsWith('snapshot ') })
        AmendTwins.snapshots(crashed).every { Qemu.rawBytes(crashed, it) == content(image, it) }

        where:
        [options, crashAt, total, mode] << crashPoints()
    }

    /** The image to amend (made once, over a backing file so that zero clusters need real clusters on v2). */
    private Path original(String options) {
        def base = dir.resolve('base.qcow2')
        if (!Files.exists(base)) {
            Qemu.create(base, '1M')
            Qemu.io(base, 'write -P 0x77 0 1M')
        }
        def image = dir.resolve("orig-${options.replace('=', '-')}.qcow2")
        if (!Files.exists(image)) {
            def (made, twin) = AmendTwins.make(dir, 'made', CASES[options][0], '1M', CASES[options][1], ['-b', base.toString(), '-F', 'qcow2'])
            Files.move(made, image)
            Files.delete(twin)
        }
        image
    }

    @Shared Map<String, byte[]> contents = [:]

    /** The original's guest bytes (active disk or a snapshot), read once. */
    private byte[] content(Path image, String snapshot) {
        contents.computeIfAbsent("$image@$snapshot".toString()) { Qemu.rawBytes(image, snapshot) }
    }

    /** For each case: 8 calls spread over the run and the last two (every call of a short run), in both crash modes. */
    List<List> crashPoints() {
        CASES.keySet().collectMany { options ->
            def storage = new CrashingStorage(Files.readAllBytes(original(options)), Long.MAX_VALUE, CrashingStorage.Mode.STOP)
            Amender.amend(storage, null, AmendOptions.parse([options]))
            long total = storage.calls
            long step = Math.max(1, total.intdiv(8))
            def points = ((1..total).findAll { it % step == 1 % step } + ((total - 1)..total)).unique()
            CrashingStorage.Mode.values().collectMany { m -> points.collect { [options, it, total, m] } }
        }
    }
}
