package dev.qcow2.rescue

import dev.qcow2.image.FollowPolicy

import dev.qcow2.Qcow2Exception
import dev.qcow2.crypto.Secret
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@link Rescuer} over encrypted images made by qemu-img convert (an ext4 file system inside):
 * LUKS (aes-256-xts-plain64, aes-128-cbc-essiv) decrypted at the host offset where a cluster is
 * found, legacy AES at the guest offset it is placed at. The rescued OUT is plain; a row passes
 * when its whole guest has the original's sha256.
 */
class RescueEncryptedSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path fsRaw
    @Shared String fsSha
    @Shared Map<String, Path> images = [:]

    def setupSpec() {
        Qemu.requireTools()
        fsRaw = RescueFixtures.ext4(dir, 'fs', 41)
        fsSha = Sha256.of(Files.readAllBytes(fsRaw))
        ['luks', 'luks-aes128-cbc-essiv', 'aes'].each { kind ->
            def img = dir.resolve("${kind}.qcow2")
            def r = Qemu.kdfTimed(['convert', '-O', 'qcow2'] + EncryptedImages.secret('s0', 'pw') +
                    ['-o', EncryptedImages.formatOptions(kind) + ',encrypt.key-secret=s0', fsRaw.toString(), img.toString()])
            assert r.exit == 0: r.err
            assert RescueFixtures.guestSha(dir, EncryptedImages.secret('s0', 'pw') + ['--image-opts', EncryptedImages.imageOpts(img, 's0')]) == fsSha
            images[kind] = img
        }
    }

    Path damaged(String kind, String what) {
        def d = dir.resolve("d-$kind-${what}.qcow2")
        Files.copy(images[kind], d, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        RescueSpec.damage(d, what)
        d
    }

    def "#what zeroed in a #kind image: the plain OUT holds the original guest"() {
        given:
        def d = damaged(kind, what)
        def before = Sha256.of(Files.readAllBytes(d))
        def out = dir.resolve("o-$kind-${what}.qcow2")

        when:
        def report = Rescuer.rescue(d, out, new RescueOptions(Secret.ofString('pw'), null, null, null, FollowPolicy.none()))

        then: 'DAMAGED untouched, OUT plain and equal to the original guest, the report says how it decrypted'
        Sha256.of(Files.readAllBytes(d)) == before
        Qemu.img(['check', out.toString()], false).exit == 0
        !Qemu.img('info', out.toString()).out.contains('encrypted: yes')
        RescueFixtures.guestSha(dir, [out.toString()]) == fsSha
        report.structures().any { it.kind() == (kind == 'aes' ? 'legacy AES encryption' : 'LUKS header') && it.evidence().contains(kind == 'aes' ? 'guest offset' : 'host offset') }

        where:
        [kind, what] << [['luks', 'luks-aes128-cbc-essiv', 'aes'], ['header', 'l1', 'l2', 'refcount', 'header+l1', 'all']].combinations()
    }

    def "a LUKS header found by its magic when the qcow2 header is lost"() {
        when:
        def report = Rescuer.rescue(damaged('luks', 'header'), dir.resolve('magic.qcow2'), new RescueOptions(Secret.ofString('pw'), null, null, null, FollowPolicy.none()))

        then:
        report.structures().any { it.kind() == 'LUKS header' && it.status() == 'found' && it.evidence().contains('LUKS magic') }
    }

    def "#kind with #what: one line, nothing written"() {
        given:
        def d = damaged(kind, what)
        def out = dir.resolve("none-$kind-${what}.qcow2")

        when:
        Rescuer.rescue(d, out, new RescueOptions(secret == null ? null : Secret.ofString(secret), null, null, null, FollowPolicy.none()))

        then:
        def e = thrown(Qcow2Exception)
        !e.message.contains('\n')
        e.message.contains(message)
        !Files.exists(out)

        where:
        kind   | what     | secret  | message
        'luks' | 'l2'     | null    | 'encrypted (LUKS)'
        'luks' | 'header' | null    | 'a LUKS header at'
        'aes'  | 'l1'     | null    | 'encrypted (legacy AES)'
        'luks' | 'l2'     | 'wrong' | 'Invalid password'
        'luks' | 'header' | 'wrong' | 'Invalid password'
    }
}
