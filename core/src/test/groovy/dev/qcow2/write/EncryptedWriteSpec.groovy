package dev.qcow2.write

import dev.qcow2.Qcow2Exception
import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Path

/** qemu reads what we wrote into encrypted images; qemu-img check is clean after our writes. */
class EncryptedWriteSpec extends Specification {
    @TempDir Path dir

    static WriteOptions key(String pw) { WriteOptions.defaults().withSecrets(EncryptedImages.top(pw)) }

    def "#format, #options: writes of every shape, zero writes and discards read back in qemu, check clean (seed #seed)"() {
        given: 'an encrypted image qemu-io wrote first, and its guest as a model'
        long size = 6L * 1024 * 1024
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), "$size", format, 'pw', options)
        EncryptedImages.io(img, 'pw', ['write -P 0x5a 0 3M', 'write -z 1M 64k'])
        byte[] model = EncryptedImages.raw(img, 'pw')
        int cs = WriteShapesSpec.clusterSize(options)
        def rnd = new Random(seed)
        def ops = []

        when:
        Qcow2Writer.open(img, key('pw')).withCloseable { w ->
            // fixed shapes: inside one sector, across sectors, a partial cluster, across clusters, whole clusters
            [[100, 20], [510, 4], [cs + 512, 512], [3L * cs - 7, cs + 14], [(long) cs * 4, cs * 2], [size - 600, 600]]
                    .findAll { it[0] + it[1] <= size }.each { s ->
                byte[] d = new byte[(int) s[1]]
                rnd.nextBytes(d)
                w.write((long) s[0], d)
                System.arraycopy(d, 0, model, (int) s[0], d.length)
                ops << "write $s"
            }
            30.times {
                long off = (long) (rnd.nextDouble() * (size - 1))
                int len = (int) Math.min(size - off, 1 + rnd.nextInt(3 * cs))
                switch (rnd.nextInt(4)) {
                    case 0:
                    case 1:
                        byte[] d = new byte[len]
                        rnd.nextBytes(d)
                        w.write(off, d)
                        System.arraycopy(d, 0, model, (int) off, len)
                        ops << "write $off $len"
                        break
                    case 2:
                        boolean unmap = rnd.nextBoolean()
                        w.writeZeroes(off, len, unmap)
                        Arrays.fill(model, (int) off, (int) (off + len), (byte) 0)
                        ops << "zero $off $len $unmap"
                        break
                    default:
                        w.discard(off, len)
                        // discard: whole clusters inside the range read as zeros afterwards (no backing file)
                        long first = ((off + cs - 1).intdiv(cs)) * cs
                        long end = Math.min(off + len, size)
                        for (long c = first; c < end; c += cs) {
                            long ce = Math.min(c + cs, size)
                            if (ce <= end) Arrays.fill(model, (int) c, (int) ce, (byte) 0)
                        }
                        ops << "discard $off $len"
                }
                int diff = Arrays.mismatch(w.read(0, (int) size), model)
                assert diff == -1: "first difference at $diff after $ops"
            }
        }

        then: 'qemu reads our bytes, and the image is clean'
        Arrays.mismatch(EncryptedImages.raw(img, 'pw'), model) == -1
        def check = EncryptedImages.check(img, 'pw')
        assert check.exit == 0: "$ops\n$check"

        and: 'we read it again through the read-only path'
        Arrays.mismatch(Qcow2Image.open(img, OpenOptions.defaults().withSecrets(EncryptedImages.top('pw'))).withCloseable { it.read(0, (int) size) }, model) == -1

        where:
        format | options                             | seed
        'aes'  | 'cluster_size=512'                  | 1
        'aes'  | 'cluster_size=65536'                | 2
        'aes'  | 'cluster_size=2M'                   | 3
        'aes'  | 'extended_l2=on,cluster_size=65536' | 4
        'aes'  | 'compat=0.10,cluster_size=4096'     | 5
        'luks' | 'cluster_size=512'                  | 6
        'luks' | 'cluster_size=65536'                | 7
        'luks' | 'cluster_size=2M'                   | 8
        'luks' | 'extended_l2=on,cluster_size=65536' | 9
        'luks-aes128-cbc-essiv' | 'cluster_size=4096' | 10
    }

    def "#format: copy on write over a backing file and over a snapshot's shared clusters re-encrypts the copied bytes"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '2M', format, 'pw', 'cluster_size=65536')
        EncryptedImages.io(img, 'pw', ['write -P 0x31 0 2M'])
        Qemu.img(['snapshot', '-c', 'before'] + EncryptedImages.secret('s0', 'pw') + ['--image-opts', EncryptedImages.imageOpts(img, 's0')])
        byte[] model = EncryptedImages.raw(img, 'pw')

        when: 'partial writes into clusters the snapshot shares: the untouched head and tail are copied'
        Qcow2Writer.open(img, key('pw')).withCloseable { w ->
            w.write(1000, [7] * 3000 as byte[])
            w.write(65536 * 3 + 512, [8] * 512 as byte[])
        }
        Arrays.fill(model, 1000, 4000, (byte) 7)
        Arrays.fill(model, 65536 * 3 + 512, 65536 * 3 + 1024, (byte) 8)

        then:
        EncryptedImages.raw(img, 'pw') == model
        EncryptedImages.raw(img, 'pw', 'before') == ([0x31 as byte] * (2 << 20)) as byte[]
        EncryptedImages.check(img, 'pw').exit == 0

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format: writeAll (bench's queue) writes encrypted; qemu reads it"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw', 'cluster_size=4096')
        byte[] model = new byte[1 << 20]
        def rnd = new Random(11)
        long[] offsets = (0..<16).collect { (long) rnd.nextInt(250) * 4096 + rnd.nextInt(3) * 512 } as long[]
        ByteBuffer[] bufs = offsets.collect { long o -> byte[] b = new byte[4096]; rnd.nextBytes(b); ByteBuffer.allocateDirect(4096).put(b).flip() } as ByteBuffer[]

        when:
        Qcow2Writer.open(img, key('pw')).withCloseable { it.writeAll(offsets, bufs) }
        offsets.eachWithIndex { long o, int i -> bufs[i].duplicate().get(model, (int) o, 4096) }

        then:
        EncryptedImages.raw(img, 'pw') == model
        EncryptedImages.check(img, 'pw').exit == 0

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format: compressed writes are refused with qemu-img's message; nothing is written"() {
        given:
        def img = EncryptedImages.create(dir.resolve('e.qcow2'), '1M', format, 'pw')
        def w = Qcow2Writer.open(img, key('pw'))
        def sha = Sha256.of(img)

        when:
        w.writeCompressed(0, new byte[65536])

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: Compression and encryption not supported at the same time"
        Sha256.of(img) == sha

        cleanup:
        w?.close()

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format without a secret: the writer refuses to open, as qemu-img does; nothing is written"() {
        given:
        def img = EncryptedImages.create(dir.resolve('e.qcow2'), '1M', format, 'pw')
        def sha = Sha256.of(img)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults())

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: Parameter 'encrypt.key-secret' is required for cipher"
        Sha256.of(img) == sha

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format: a write over an encrypted backing file with its own secret (json: name) copies decrypted bytes into the overlay"() {
        given:
        def base = EncryptedImages.create(dir.resolve('base.qcow2'), '1M', format, 'base-pw', null, 's1')
        EncryptedImages.io(base, 'base-pw', ['write -P 0x11 0 1M'], 's1')
        String json = """json:{"driver":"qcow2","file.filename":"${base}","encrypt.key-secret":"s1"}"""
        def top = EncryptedImages.create(dir.resolve('top.qcow2'), '1M', format, 'top-pw', null, 's2', ['-u', '-b', json, '-F', 'qcow2'])
        def objects = [s1: Secret.ofString('base-pw'), s2: Secret.ofString('top-pw')]

        when:
        Qcow2Writer.open(top, WriteOptions.defaults().withSecrets(SecretLookup.byId(objects, [0: 's2']))).withCloseable { w ->
            w.write(70000, [0x22] * 100 as byte[])
        }
        byte[] expected = ([0x11 as byte] * (1 << 20)) as byte[]
        Arrays.fill(expected, 70000, 70100, (byte) 0x22)

        then:
        EncryptedImages.raw(top, 'top-pw', null, 's2', EncryptedImages.secret('s1', 'base-pw')) == expected
        Qemu.img(['check'] + EncryptedImages.secret('s2', 'top-pw') + EncryptedImages.secret('s1', 'base-pw')
                + ['--image-opts', EncryptedImages.imageOpts(top, 's2')], false).exit == 0

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }
}
