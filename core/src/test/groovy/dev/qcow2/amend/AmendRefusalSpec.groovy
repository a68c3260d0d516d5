package dev.qcow2.amend

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * What qemu-img amend refuses, we refuse with its message (ours names the file first). Checks
 * made before anything changes leave the file byte-for-byte as it was; refusals in a later step
 * leave the same state as qemu-img's (QEMU keeps the steps already done).
 */
class AmendRefusalSpec extends Specification {
    @TempDir Path dir

    def "#options on an image #what is refused like qemu-img: #message"() {
        given:
        def (ours, twin) = AmendTwins.make(dir, 'img', create?.replace('DIR', dir.toString()), '1M', recipe, extra)
        String before = Sha256.of(ours)

        when:
        def qemu = Qemu.img(['amend', '-o', options, twin.toString()], false)
        Amender.amend(ours, AmendOptions.parse([options]))

        then:
        def e = thrown(Exception)
        e instanceof IOException || e instanceof IllegalArgumentException
        qemu.exit == 1
        qemu.err.readLines()[0] == "qemu-img: $message"
        e.message == message || e.message == "$ours: $message"
        hint == null ? qemu.err.readLines().size() == 1 : qemu.err.readLines()[1] == hint
        hint == null || e.hint() == hint
        untouched ? Sha256.of(ours) == before : AmendTwins.infoFields(ours) == AmendTwins.infoFields(twin)
        AmendTwins.check(ours).exit == 0

        where:
        what                  | create                    | recipe                                 | extra | options                          | untouched | hint                                                | message
        'v3'                  | null                      | []                                     | []    | 'cluster_size=4096'              | true      | 'This option is only supported for image creation'  | "Invalid parameter 'cluster_size'"
        'v3'                  | null                      | []                                     | []    | 'extended_l2=on'                 | true      | 'This option is only supported for image creation'  | "Invalid parameter 'extended_l2'"
        'v3'                  | null                      | []                                     | []    | 'lazy_refcounts=on,preallocation=full' | true | 'This option is only supported for image creation' | "Invalid parameter 'preallocation'"
        'v3'                  | null                      | []                                     | []    | 'compression_type=zstd'          | true      | 'This option is only supported for image creation'  | "Invalid parameter 'compression_type'"
        'v3'                  | null                      | []                                     | []    | 'foo=1'                          | true      | null                                                | "Invalid parameter 'foo'"
        'v3'                  | null                      | []                                     | []    | 'compat=v4'                      | true      | null                                                | 'Unknown compatibility level v4'
        'v3'                  | null                      | []                                     | []    | 'refcount_bits=3'                | true      | null                                                | 'Refcount width must be a power of two and may not exceed 64 bits'
        'v3'                  | null                      | []                                     | []    | 'lazy_refcounts=maybe'           | true      | null                                                | "Parameter 'lazy_refcounts' expects 'on' or 'off'"
        'v3'                  | null                      | []                                     | []    | 'data_file=x.raw'                | true      | null                                                | 'data-file can only be set for images that use an external data file'
        'v3'                  | null                      | []                                     | []    | 'data_file_raw=on'               | true      | null                                                | 'data-file-raw cannot be set on existing images'
        'v3'                  | null                      | []                                     | []    | 'encrypt.state=active'           | true      | null                                                | "Can't amend encryption options - encryption not present"
        'v3'                  | null                      | []                                     | []    | 'size=1000'                      | true      | null                                                | 'The new size must be a multiple of 512'
        'v3'                  | null                      | []                                     | []    | 'compat=0.10,lazy_refcounts=on'  | true      | null                                                | 'Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)'
        'v3'                  | null                      | []                                     | []    | 'compat=0.10,refcount_bits=8'    | true      | null                                                | 'Refcount widths other than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)'
        'v3'                  | null                      | []                                     | []    | 'backing_file=other.qcow2'       | true      | "You can use 'qemu-img rebase' instead."            | 'Cannot amend the backing file'
        'v2, upgraded first'  | 'compat=0.10'             | ['write -P 1 0 64k']                   | []    | 'compat=v3,backing_file=x'       | false     | "You can use 'qemu-img rebase' instead."            | 'Cannot amend the backing file'
        'with extended L2'    | 'extended_l2=on'          | ['write -z 0 64k']                     | []    | 'compat=v2'                      | true      | null                                                | 'Cannot downgrade an image with incompatible features 0x10 set'
        'with 8-bit refcounts'| 'refcount_bits=8'         | []                                     | []    | 'compat=v2'                      | true      | null                                                | 'compat=0.10 requires refcount_bits=16'
        'with a data file'    | 'data_file=DIR/d.raw'     | []                                     | []    | 'compat=v2'                      | true      | null                                                | 'Cannot downgrade an image with a data file'
        'with zstd clusters'  | 'compression_type=zstd'   | ['write -c 0 64k', 'write -z 128k 64k']| []    | 'compat=v2'                      | false     | null                                                | 'Cannot downgrade an image with zstd compression type and existing compressed clusters'
        'with a snapshot'     | null                      | ['write -P 3 0 64k', 'snapshot s']     | []    | 'refcount_bits=1'                | true      | null                                                | 'Cannot decrease refcount entry width to 1 bits: Cluster at offset 0x40000 has a refcount of 2'
        'with a snapshot'     | null                      | ['write -P 3 0 64k', 'snapshot s']     | []    | 'size=2M,compat=v2'              | false     | null                                                | 'Internal snapshots prevent downgrade of image'
    }

    def "a dirty image (lazy refcounts, not closed) is refused and left as it is, never repaired implicitly"() {
        given:
        def image = Qemu.create(dir.resolve('dirty.qcow2'), '1M', 'lazy_refcounts=on')
        Qemu.run([Qemu.QEMU_IO, '-f', 'qcow2', '-c', 'write -P 7 0 64k', '-c', 'abort', image.toString()])
        assert AmendTwins.infoFields(image).dirty
        String before = Sha256.of(image)

        when:
        Amender.amend(image, AmendOptions.parse(['lazy_refcounts=off']))

        then:
        def e = thrown(IOException)
        e instanceof dev.qcow2.DirtyImageException
        e.message == "$image: image is dirty (lazy refcounts)"
        Sha256.of(image) == before
    }
}
