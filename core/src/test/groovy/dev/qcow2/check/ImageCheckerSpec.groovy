package dev.qcow2.check

import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Clean images of many kinds: our counters and verdict equal qemu-img check's, and the file is not touched. */
class ImageCheckerSpec extends Specification {
    @TempDir Path dir

    def "a clean #kind image checks like qemu-img check"() {
        given:
        Path image = dir.resolve('clean.qcow2')
        if (options?.contains('data_file')) options = options.replace('DATA', dir.resolve('data.raw').toString())
        Qemu.create(image, '8M', options)
        if (io) Qemu.io(image, io)
        snapshots.each { Qemu.img('snapshot', '-c', it, image.toString()); Qemu.io(image, "write -P 9 0 64k") }
        bitmaps.each { Qemu.img('bitmap', '--add', image.toString(), it) }
        def sha = Sha256.of(image)
        def expected = QemuCheck.reference(image)

        when:
        CheckReport report = QemuCheck.ours(image)

        then:
        report.exitCode() == expected.exit
        QemuCheck.counters(report) == expected.counters
        report.exitCode() == 0
        report.findings().isEmpty()
        Sha256.of(image) == sha

        where:
        kind                  | options                                 | io                                                  | snapshots    | bitmaps
        'empty'               | null                                    | []                                                  | []           | []
        '512-byte cluster'    | 'cluster_size=512'                      | ['write -P 1 0 1M', 'write 3M 100k']                | []           | []
        '4k cluster'          | 'cluster_size=4k'                       | ['write -P 1 0 1M', 'write 5M 12k']                 | []           | []
        '2M cluster'          | 'cluster_size=2M'                       | ['write -P 1 0 1M', 'write 6M 4k']                  | []           | []
        'refcount_bits=1'     | 'refcount_bits=1'                       | ['write 0 1M', 'write 5M 64k']                      | []           | []
        'refcount_bits=2'     | 'refcount_bits=2'                       | ['write 0 1M']                                      | ['s1']       | []
        'refcount_bits=4'     | 'refcount_bits=4'                       | ['write 0 1M']                                      | []           | []
        'refcount_bits=8'     | 'refcount_bits=8'                       | ['write 0 1M']                                      | ['s1', 's2'] | []
        'refcount_bits=32'    | 'refcount_bits=32'                      | ['write 0 1M']                                      | []           | []
        'refcount_bits=64'    | 'refcount_bits=64'                      | ['write 0 1M']                                      | ['s1']       | []
        'compat 0.10'         | 'compat=0.10'                           | ['write 0 100k', 'write 4M 64k']                    | ['s1']       | []
        'lazy refcounts'      | 'lazy_refcounts=on'                     | ['write 0 1M']                                      | []           | []
        'zlib compressed'     | null                                    | ['write -c -P 3 0 1M', 'write 2M 64k']              | []           | []
        'zstd compressed'     | 'compression_type=zstd'                 | ['write -c -P 3 0 1M']                              | []           | []
        'extended L2'         | 'extended_l2=on'                        | ['write 0 4k', 'write 1M 100k', 'write -z 2M 64k']  | []           | []
        'zero and discard'    | null                                    | ['write 0 2M', 'write -z 0 64k', 'discard 1M 128k'] | []           | []
        'snapshots'           | null                                    | ['write -P 1 0 1M']                                 | ['a', 'b']   | []
        'bitmaps'             | null                                    | ['write 0 1M']                                      | []           | ['b0', 'b1']
        'external data file'  | 'data_file=DATA'                        | ['write 0 1M']                                      | []           | []
        'prealloc metadata'   | 'preallocation=metadata'                | []                                                  | []           | []
        'prealloc full'       | 'preallocation=full'                    | []                                                  | []           | []
    }

    def "qemu-img convert -c output checks like qemu-img"() {
        given:
        Path source = dir.resolve('src.qcow2')
        Qemu.create(source, '4M')
        Qemu.io(source, 'write -P 5 0 1M')
        Path compressed = dir.resolve('conv.qcow2')
        Qemu.img('convert', '-c', '-O', 'qcow2', source.toString(), compressed.toString())

        when:
        def report = QemuCheck.ours(compressed)

        then:
        QemuCheck.counters(report) == QemuCheck.reference(compressed).counters
        report.compressedClusters() == 16
    }

    def "a LUKS image without its key: check refuses as qemu-img check does (exit 1, the same line), writing nothing"() {
        given:
        Path luks = dir.resolve('luks.qcow2')
        Qemu.createLuks(luks, '4M', 'encrypt.iter-time=50')
        def sha = Sha256.of(luks)
        def ref = Qemu.img(['check', luks.toString()], false)

        when:
        QemuCheck.ours(luks)

        then:
        def e = thrown(dev.qcow2.Qcow2Exception)
        ref.exit == 1
        ref.err.trim() == "qemu-img: Could not open '$luks': Parameter 'encrypt.key-secret' is required for cipher"
        e.message == "$luks: Parameter 'encrypt.key-secret' is required for cipher"
        Sha256.of(luks) == sha
    }

    def "a LUKS image's header area is counted as qemu-img counts it (both given the key)"() {
        given:
        Path luks = dir.resolve('luks.qcow2')
        def secret = ['--object', 'secret,id=sec0,data=abc']
        Qemu.createLuks(luks, '4M', 'encrypt.iter-time=50')
        def sha = Sha256.of(luks)
        def ref = Qemu.img(['check', '--output=json'] + secret
                + ['--image-opts', "driver=qcow2,file.filename=${luks},encrypt.key-secret=sec0".toString()], false)

        when:
        def report = Qcow2Image.open(luks, OpenOptions.forChecking().withSecrets(SecretLookup.topOnly(Secret.ofString('abc')))).withCloseable {
            ImageChecker.check(it)
        }

        then:
        ref.exit == 0
        report.exitCode() == 0
        report.imageEndOffset() == ref.json()['image-end-offset']
        report.imageEndOffset() > 1024 * 1024   // the LUKS key material area (about 2 MiB) is referenced
        Sha256.of(luks) == sha
    }
}
