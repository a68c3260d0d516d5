package dev.qcow2.image

import dev.qcow2.Qcow2Exception
import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Instant

/** A wrong LUKS passphrase: qemu's one line, at open, and nothing written anywhere. */
class EncryptedLuksKeySpec extends Specification {
    @TempDir Path dir

    def "a wrong passphrase: #what fails with qemu's line before anything is written"() {
        given:
        def img = EncryptedImages.create(dir.resolve('l.qcow2'), '1M', 'luks', 'right')
        EncryptedImages.io(img, 'right', ['write -P 1 0 64k'])
        def sha = Sha256.of(img)
        def ref = Qemu.img(['convert', '-O', 'raw'] + EncryptedImages.secret('s0', 'wrong')
                + ['--image-opts', EncryptedImages.imageOpts(img, 's0'), dir.resolve('o.raw').toString()], false)
        def wrong = SecretLookup.topOnly(Secret.ofString('wrong'))

        when:
        action(img, wrong)

        then:
        def e = thrown(Qcow2Exception)
        ref.exit == 1
        ref.err.trim().endsWith('Invalid password, cannot unlock any keyslot')
        e.message == "$img: Invalid password, cannot unlock any keyslot"
        Sha256.of(img) == sha

        where:
        what        | action
        'read open' | { Path p, SecretLookup s -> Qcow2Image.open(p, OpenOptions.defaults().withSecrets(s)) }
        'writer'    | { Path p, SecretLookup s -> Qcow2Writer.open(p, WriteOptions.defaults().withSecrets(s)) }
        'snapshots' | { Path p, SecretLookup s -> Snapshots.open(p, s).withCloseable { it.create('x', Instant.now()) } }
    }
}
