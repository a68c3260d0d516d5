package dev.qcow2.write

import dev.qcow2.chain.Commit
import dev.qcow2.chain.Progress
import dev.qcow2.create.Preallocation
import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.resize.Resizer
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Instant

/**
 * The LUKS rule that IVs count HOST sectors (s->crypt_physical_offset): data must survive every
 * move to a new host cluster — copy-on-write of partial clusters, clusters shared with a
 * snapshot, a grow's copied head, a commit into the base — because each move must re-encrypt
 * for the new place. Checked against a model, through our read path and qemu-img's.
 */
class LuksHostIvSpec extends Specification {
    @TempDir Path dir
    static final String PW = 'luks secret'

    static SecretLookup key() { SecretLookup.topOnly(Secret.ofString(PW)) }

    static byte[] readAll(Path img) {
        Qcow2Image.open(img, OpenOptions.permissive().withSecrets(key())).withCloseable { it.read(0, (int) it.size()) }
    }

    def "#options: writes, zero writes, discards, COW over a snapshot, apply, resize keep the model (seed #seed)"() {
        given:
        long size = 2L * 1024 * 1024 + 1536     // ends inside a cluster: the grow copies that cluster's head
        def img = EncryptedImages.createByUs(dir.resolve('h.qcow2'), "$size", 'luks', PW, options)
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs, options.contains('compat=0.10') ? 2 : 3)
        def rnd = new Random(seed)
        def log = []

        when: 'random ops, a snapshot, more ops (copy-on-write of shared clusters)'
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(key())).withCloseable { w -> 15.times { log << step(rnd, w, mirror, size, cs) } }
        byte[] atSnapshot = mirror.bytes.clone()
        Snapshots.open(img, key()).withCloseable { it.create('s', Instant.ofEpochSecond(1)) }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(key())).withCloseable { w -> 15.times { log << step(rnd, w, mirror, size, cs) } }

        then:
        assert Arrays.mismatch(readAll(img), mirror.bytes) == -1: "$log"
        assert Arrays.mismatch(EncryptedImages.raw(img, PW), mirror.bytes) == -1: "$log"
        EncryptedImages.raw(img, PW, 's') == atSnapshot
        Qcow2Image.open(img, OpenOptions.defaults().withSecrets(key())).withCloseable { it.snapshot('s').read(0, (int) size) } == atSnapshot
        Qemu.img(['check'] + EncryptedImages.secret('s0', PW) + ['--image-opts', EncryptedImages.imageOpts(img, 's0')], false).exit == 0

        when: 'apply the snapshot, write into it, delete the snapshot, grow (metadata-preallocated, copied head re-encrypted), write past the old end'
        long grown = size + 196608 + 512
        Snapshots.open(img, key()).withCloseable { it.apply('s') }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(key())).withCloseable { w -> w.write(cs + 100, [9] * 700 as byte[]) }
        Snapshots.open(img, key()).withCloseable { it.delete('s') }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(key())).withCloseable { w ->
            Resizer.resize(w, grown, Preallocation.METADATA)
            w.write(size + 1000, [8] * 3000 as byte[])
        }
        byte[] expected = Arrays.copyOf(atSnapshot, (int) grown)
        Arrays.fill(expected, cs + 100, cs + 800, (byte) 9)
        Arrays.fill(expected, (int) size + 1000, (int) size + 4000, (byte) 8)

        then: 'the old content (the copied head included) and the new write read back; the rest of the preallocated area is undefined, as in qemu'
        byte[] now = readAll(img)
        now.length == grown
        Arrays.mismatch(now, 0, (int) size, expected, 0, (int) size) == -1
        Arrays.mismatch(now, (int) size + 1000, (int) size + 4000, expected, (int) size + 1000, (int) size + 4000) == -1
        EncryptedImages.raw(img, PW) == now
        Qemu.img(['check'] + EncryptedImages.secret('s0', PW) + ['--image-opts', EncryptedImages.imageOpts(img, 's0')], false).exit == 0

        where:
        options                              | seed
        'cluster_size=4096'                  | 21
        'cluster_size=512'                   | 22
        'extended_l2=on,cluster_size=65536'  | 23
        'compat=0.10,cluster_size=4096'      | 24
    }

    def "LUKS IVs depend on the host offset: the same guest bytes at two host clusters differ in the file"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('h.qcow2'), '1M', 'luks', PW, 'cluster_size=4096')

        when:
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(key())).withCloseable { w ->
            w.write(0, [5] * 4096 as byte[])
            w.write(8192, [5] * 4096 as byte[])
        }
        def hosts = Qcow2Image.open(img).withCloseable { i -> [0L, 8192L].collect { i.mapper().extent(new dev.qcow2.units.GuestOffset(it), 4096).hostOffset().value() } }
        byte[] file = java.nio.file.Files.readAllBytes(img)

        then:
        !Arrays.equals(file, (int) hosts[0], (int) hosts[0] + 512, file, (int) hosts[1], (int) hosts[1] + 512)
        readAll(img)[8192] == 5 as byte
    }

    def "commit of a LUKS overlay into a LUKS base: the base re-encrypts for its own clusters"() {
        given:
        def base = EncryptedImages.createByUs(dir.resolve('base.qcow2'), '1M', 'luks', PW, 'cluster_size=4096')
        Qcow2Writer.open(base, WriteOptions.defaults().withSecrets(key())).withCloseable { it.write(0, [1] * (1 << 20) as byte[]) }
        def top = EncryptedImages.create(dir.resolve('top.qcow2'), '1M', 'luks', PW, 'cluster_size=65536', 's0', ['-u', '-b', base.toString(), '-F', 'qcow2'])
        def both = SecretLookup.byId([s: Secret.ofString(PW)], [0: 's', 1: 's'])
        Qcow2Writer.open(top, WriteOptions.defaults().withSecrets(both)).withCloseable { it.write(5000, [2] * 70000 as byte[]) }
        byte[] expected = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(both)).withCloseable { it.read(0, 1 << 20) }

        when:
        Commit.commit(top, new Commit.Options(null, false), both, Progress.NONE)

        then:
        readAll(base) == expected
        EncryptedImages.raw(base, PW) == expected
        expected[5000] == 2 as byte && expected[0] == 1 as byte
    }

    private static String step(Random rnd, Qcow2Writer w, Mirror m, long size, int cs) {
        long off = (long) (rnd.nextDouble() * (size - 1))
        int len = (int) Math.min(size - off, 1 + rnd.nextInt(cs * 3))
        switch (rnd.nextInt(6)) {
            case 0..3:
                byte[] d = Mirror.pattern(rnd.nextLong(), len)
                w.write(off, d); m.write(off, d)
                return "write $off $len"
            case 4:
                boolean unmap = rnd.nextBoolean()
                w.writeZeroes(off, len, unmap); m.zero(off, len)
                return "zero $off $len $unmap"
            default:
                w.discard(off, len); m.discard(off, len)
                return "discard $off $len"
        }
    }
}
