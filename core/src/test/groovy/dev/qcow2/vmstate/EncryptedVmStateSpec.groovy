package dev.qcow2.vmstate

import dev.qcow2.Qcow2Exception
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.QemuSystem
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

/**
 * The VM state of an encrypted image. QEMU stores it through the same encrypting data path as
 * guest data (qcow2_save_vmstate → qcow2_co_pwritev_part, every cluster encrypted with the
 * image's key at its host offset), so read back it must decrypt to exactly the stream QEMU saved.
 * <p>qemu-system-x86_64 7.2 itself cannot make one: savevm on an encrypted qcow2 aborts in
 * qcow2_co_encdec ("Assertion `QEMU_IS_ALIGNED(len, sector_size)' failed": the migration buffer
 * flushes lengths that are not whole sectors) — the first feature pins that. So the encrypted
 * state is made the way QEMU would store it from a real one: a plain savevm's stream (a real
 * 7.2 guest) written with qemu-io {@code write -b} (QEMU's own vmstate write path, encrypting,
 * whole sectors), then qemu-img snapshot -c copies the L1 that maps it, and the entry's
 * vm_state_size is set to the stream's length, as savevm sets it.
 */
class EncryptedVmStateSpec extends Specification {
    static final long M = 1L << 20

    @Shared @TempDir Path shared
    @Shared byte[] stream, ram
    @Shared byte[] pattern = new byte[64 * 1024]

    @TempDir Path dir

    def setupSpec() {
        new Random(21).nextBytes(pattern)
        Path plain = Qemu.create(shared.resolve('plain.qcow2'), '100M')
        def guest = QemuSystem.start(plain, shared.resolve('ram.bin'), 'pc', 64, pattern, 0x100000)
        try {
            guest.savevm('s1')
            ram = guest.ramBytes()
        } finally {
            guest.close()
        }
        Path out = shared.resolve('s1.stream')
        Qcow2Image.open(plain).withCloseable { img -> VmState.of(img, img.findSnapshot('s1').get()).export(out, VmStateFormat.STREAM, MemoryOptions.defaults()) }
        stream = Files.readAllBytes(out)
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        new String(haystack, StandardCharsets.ISO_8859_1).indexOf(new String(needle, StandardCharsets.ISO_8859_1)) >= 0
    }

    /** An encrypted image of {@code kind} holding {@link #stream} as snapshot s1's VM state, stored by QEMU. */
    Path encryptedWithState(String kind, String pw) {
        def image = EncryptedImages.create(dir.resolve('vm.qcow2'), '100M', kind, pw, null, 'sec0')
        EncryptedImages.io(image, pw, ['write -P 0x5a 0 1M'], 'sec0')
        EncryptedImages.storeVmState(image, pw, stream, 's1')
    }

    def "qemu-system-x86_64 7.2's savevm on a LUKS image aborts (why the states below are written with qemu-io)"() {
        given:
        def image = EncryptedImages.create(dir.resolve('vm.qcow2'), '16M', 'luks', 'vm-pw', null, 'sec0')
        def guest = QemuSystem.start(image, dir.resolve('ram.bin'), 'pc', 16, null, 0x100000,
                EncryptedImages.secret('sec0', 'vm-pw'), 'encrypt.key-secret=sec0')

        when:
        guest.savevm('s1')

        then:
        def e = thrown(AssertionError)
        e.message.contains('qcow2_co_encdec') && e.message.contains('QEMU_IS_ALIGNED')

        cleanup:
        guest?.close()
    }

    def "#kind: the VM state is stored encrypted; with the key it is the stream and the guest's RAM byte for byte"() {
        given:
        def image = encryptedWithState(kind, 'vm-pw')

        expect: 'qemu-img check is clean, and the file does not hold the pattern in clear'
        EncryptedImages.check(image, 'vm-pw').exit == 0
        contains(ram, pattern[0..<256] as byte[])
        !contains(Files.readAllBytes(image), pattern[0..<256] as byte[])

        when: 'exported with the key'
        Path raw = dir.resolve('s1.raw')
        Path st = dir.resolve('s1.stream')
        Qcow2Image.open(image, OpenOptions.defaults().withSecrets(EncryptedImages.top('vm-pw'))).withCloseable { img ->
            def state = VmState.of(img, img.findSnapshot('s1').get())
            state.export(raw, VmStateFormat.RAW, MemoryOptions.defaults())
            state.export(st, VmStateFormat.STREAM, MemoryOptions.defaults())
        }

        then:
        Arrays.equals(Files.readAllBytes(st), stream)
        Files.size(raw) == 64 * M
        Arrays.equals(Files.readAllBytes(raw), ram)

        where:
        kind << ['luks', 'luks-aes128-cbc-essiv', 'aes']
    }

    def "#kind: without the key the VM state is refused in one line and nothing is written; a wrong key does not decode"() {
        given:
        def image = encryptedWithState(kind, 'vm-pw')
        def before = Files.readAllBytes(image)

        when: 'no key'
        Qcow2Image.open(image, OpenOptions.defaults()).withCloseable { img ->
            VmState.of(img, img.findSnapshot('s1').get()).export(dir.resolve('x.raw'), VmStateFormat.RAW, MemoryOptions.defaults())
        }

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$image: Parameter 'encrypt.key-secret' is required for cipher"
        !Files.exists(dir.resolve('x.raw'))

        when: 'a wrong key'
        Qcow2Image.open(image, OpenOptions.defaults().withSecrets(EncryptedImages.top('wrong-pw'))).withCloseable { img ->
            VmState.of(img, img.findSnapshot('s1').get()).summary()
        }

        then: 'LUKS does not unlock; legacy AES has no check, so it decrypts to bytes that are not a QEMU stream'
        def w = thrown(Qcow2Exception)
        w.message.contains(wrongKeyWords)
        !w.message.contains('wrong-pw')
        !Files.exists(dir.resolve('x.raw'))

        and: 'the image is unchanged'
        Arrays.equals(Files.readAllBytes(image), before)

        where:
        kind   | wrongKeyWords
        'luks' | 'Invalid password, cannot unlock any keyslot'
        'aes'  | 'QEVM'
    }
}
