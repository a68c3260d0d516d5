package dev.qcow2.rescue

import dev.qcow2.image.FollowPolicy

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@link Rescuer} over images with an external data file (qemu-img convert -o data_file=…,
 * with and without data_file_raw): tables that survive place clusters inside the data file;
 * without them every data-file cluster goes to its own guest offset. OUT holds the data inline.
 */
class RescueDataFileSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path fsRaw
    @Shared String fsSha

    def setupSpec() {
        Qemu.requireTools()
        fsRaw = RescueFixtures.ext4(dir, 'fs', 42)
        fsSha = Sha256.of(Files.readAllBytes(fsRaw))
    }

    def "#what zeroed, data_file_raw=#raw, data file given: #explicit: OUT (no data file) holds the original guest"() {
        given:
        def img = dir.resolve("df-$raw-$what-${explicit}.qcow2")
        def data = dir.resolve("df-$raw-$what-${explicit}.data")
        Qemu.img('convert', '-O', 'qcow2', '-o', "data_file=${data},data_file_raw=$raw".toString(), fsRaw.toString(), img.toString())
        RescueSpec.damage(img, what)
        def out = dir.resolve("o-$raw-$what-${explicit}.qcow2")
        def dataBefore = Sha256.of(Files.readAllBytes(data))

        when:
        def report = Rescuer.rescue(img, out, new RescueOptions(null, explicit ? data : null, null, null, explicit ? FollowPolicy.none() : FollowPolicy.imageTree()))

        then:
        Sha256.of(Files.readAllBytes(data)) == dataBefore
        !Qemu.img('info', out.toString()).out.contains('data file')
        RescueFixtures.guestSha(dir, [out.toString()]) == fsSha
        report.structures().any { it.kind() == 'data file' }
        report.placedTotal() > 0

        where:
        [raw, what, explicit] << [['off', 'on'], ['header', 'l1', 'l2', 'refcount', 'all'], [true]].combinations() +
                [['off'], ['l2', 'refcount'], [false]].combinations()
    }

    def "the header names a data file but header names may not be followed: one line, nothing written"() {
        given:
        def img = dir.resolve('named.qcow2')
        Qemu.img('convert', '-O', 'qcow2', '-o', "data_file=${dir.resolve('named.data')}".toString(), fsRaw.toString(), img.toString())
        def out = dir.resolve('named-out.qcow2')

        when:
        Rescuer.rescue(img, out, RescueOptions.none())

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains("external data file ('${dir.resolve('named.data')}')")
        !Files.exists(out)
    }

    def "a header-named data file outside the image's directory passes the open gate only when allowed (#policy)"() {
        given: 'an image in sub/ whose data file lies one directory up'
        def sub = Files.createDirectories(dir.resolve("gate-${policy}"))
        def data = dir.resolve("gate-${policy}.data")
        def img = sub.resolve('img.qcow2')
        Qemu.img('convert', '-O', 'qcow2', '-o', "data_file=${data},data_file_raw=on".toString(), fsRaw.toString(), img.toString())
        RescueSpec.damage(img, 'l2')
        def out = sub.resolve('out.qcow2')
        def follow = policy == 'image tree' ? FollowPolicy.imageTree() : FollowPolicy.allowing([dir])

        when:
        Exception refused = null
        try { Rescuer.rescue(img, out, new RescueOptions(null, null, null, null, follow)) } catch (Qcow2Exception e) { refused = e }

        then:
        (refused != null) == !followed
        !followed ? refused.message.contains("is outside ${FollowPolicy.real(sub)}") && !Files.exists(out)
                  : RescueFixtures.guestSha(dir, [out.toString()]) == fsSha

        where:
        policy       | followed
        'image tree' | false
        'allowed'    | true
    }
}
