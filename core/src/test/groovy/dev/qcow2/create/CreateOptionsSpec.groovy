package dev.qcow2.create

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Options qemu-img create refuses are refused by us with qemu-img's reason, word for word. */
class CreateOptionsSpec extends Specification {
    @TempDir Path dir

    def setup() {
        Qemu.img(['create', '-q', '-f', 'qcow2', dir.resolve('b.qcow2').toString(), '1M'])
    }

    /** qemu-img's reason: the first stderr line without "qemu-img: FILE: ". */
    String qemuReason(String options, String size = '1M') {
        def r = Qemu.run([Qemu.QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o', options, 'q.qcow2', size], dir.toFile())
        assert r.exit == 1: r
        r.err.readLines()[0] - 'qemu-img: q.qcow2: '
    }

    String ourReason(String options, String size = '1M') {
        def image = dir.resolve('o.qcow2')
        try {
            ImageCreator.create(image, new OptionList().add(options).set('size', size), false)
        } catch (IOException | IllegalArgumentException e) {
            return e.message - "$image: "
        }
        null
    }

    def "#options is refused with qemu-img's reason"() {
        expect:
        ourReason(options) == qemuReason(options)
        !Files.exists(dir.resolve('o.qcow2'))

        where:
        options << [
                'cluster_size=1000', 'cluster_size=256', 'cluster_size=4M', 'cluster_size=abc',
                'compat=0.10,lazy_refcounts=on', 'compat=v2,lazy_refcounts=on',
                'refcount_bits=128', 'refcount_bits=3', 'refcount_bits=0', 'refcount_bits=abc',
                'compat=0.10,refcount_bits=8', 'compat=v2,refcount_bits=64',
                'extended_l2=on,cluster_size=8k', 'compat=0.10,extended_l2=on',
                'xyz=1', 'compat=2', 'preallocation=foo', 'lazy_refcounts=maybe',
                'compat=0.10,compression_type=zstd', 'compression_type=lz4',
                'backing_file=b.qcow2,backing_fmt=qcow2,preallocation=metadata',
                'backing_fmt=qcow2', 'data_file_raw=on', 'data_file=d.raw,compat=0.10',
        ]
    }

    def "a size too large for the cluster size is refused with qemu-img's reason"() {
        expect:
        ourReason('cluster_size=512', '64T') == qemuReason('cluster_size=512', '64T')
        ourReason('cluster_size=512', '64T') == "The image size is too large for file format 'qcow2' (try using a larger cluster size)"
    }

    def "qemu-img's rule order: the first violated rule is the one reported"() {
        expect:
        ourReason('compat=0.10,lazy_refcounts=on,refcount_bits=3,cluster_size=1000') ==
                qemuReason('compat=0.10,lazy_refcounts=on,refcount_bits=3,cluster_size=1000')
    }

    def "encryption without a usable secret is refused with qemu-img's reason, before anything is written"() {
        expect:
        ourReason(options) == reason
        ourReason(options) == qemuReason(options)
        !Files.exists(dir.resolve('o.qcow2'))

        where:
        options                                    | reason
        'encryption=on'                            | "Parameter 'encrypt.key-secret' is required for cipher"
        'encrypt.format=luks'                      | "Parameter 'encrypt.key-secret' is required for cipher"
        'encrypt.format=aes,encrypt.key-secret=s0' | "No secret with id 's0'"
    }

    def "option syntax: ,, is a comma, a bare key means on, later values win"() {
        when:
        def o = new OptionList().add('backing_file=a,,b.qcow2,lazy_refcounts,cluster_size=4k').add('cluster_size=8k')

        then:
        o.get('backing_file') == 'a,b.qcow2'
        o.get('lazy_refcounts') == 'on'
        o.formatted() == 'cluster_size=8192 extended_l2=off compression_type=zlib backing_file=a,,b.qcow2 lazy_refcounts=on refcount_bits=16'
    }

    def "sizes take qemu's suffixes in powers of 1024"() {
        expect:
        SizeParser.parse(text) == bytes

        where:
        text    | bytes
        '512'   | 512
        '1k'    | 1024
        '1.5M'  | 1572864
        '2G'    | 2L << 30
        '1T'    | 1L << 40
        '1M1'   | -1
        'abc'   | -1
        '9E'    | -1
    }
}
