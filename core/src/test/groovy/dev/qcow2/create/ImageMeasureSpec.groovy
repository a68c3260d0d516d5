package dev.qcow2.create

import dev.qcow2.testing.Sha256

import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.image.RawImage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** ImageMeasure gives qemu-img measure's numbers, for sizes and for existing images. */
class ImageMeasureSpec extends Specification {
    @TempDir Path dir

    static Map asJson(ImageMeasure.Result r) {
        def m = [required: r.required(), 'fully-allocated': r.fullyAllocated()]
        if (r.bitmaps().present) m.bitmaps = r.bitmaps().asLong
        m
    }

    def "measure -O qcow2 -o #options --size #size"() {
        given:
        def args = ['measure', '--output=json', '-O', 'qcow2', '--size', size]
        if (options) args += ['-o', options]
        def opts = new OptionList()
        if (options) opts.add(options)
        opts.set('size', size)

        expect:
        asJson(ImageMeasure.qcow2(opts, null)) == Qemu.img(args).json()

        where:
        [options, size] << [
                ['', '0'], ['', '1000'], ['', '16M'], ['', '1G'], ['', '1T'], ['', '100T'],
                ['cluster_size=512', '1G'], ['cluster_size=2M', '1T'], ['cluster_size=4k,refcount_bits=64', '10G'],
                ['refcount_bits=1', '1G'], ['extended_l2=on', '1T'], ['extended_l2=on,cluster_size=16k', '3G'],
                ['preallocation=metadata', '1G'], ['preallocation=falloc', '1G'], ['preallocation=full', '1000'],
                ['compat=0.10', '5G'], ['lazy_refcounts=on,compression_type=zstd', '7M'],
        ]
    }

    def "measure -O qcow2 #options of an image with #content"() {
        given:
        def base = Qemu.create(dir.resolve('base.qcow2'), '8M')
        Qemu.io(base, 'write -P 1 0 1M')
        def image = dir.resolve('img.qcow2')
        Qemu.img(['create', '-q', '-f', 'qcow2', '-o', imageOptions, '-b', base.toString(), '-F', 'qcow2', image.toString()])
        Qemu.io(image, ioCommands)
        if (bitmap) Qemu.img(['bitmap', '--add', '-g', '64k', image.toString(), 'b0'])
        def opts = new OptionList()
        if (options) opts.add(options)
        def args = ['measure', '--output=json', '-O', 'qcow2']
        if (options) args += ['-o', options]
        def before = Sha256.of(image)

        when:
        def ours = Qcow2Image.open(image, OpenOptions.permissive()).withCloseable { ImageMeasure.qcow2(opts, it) }

        then:
        asJson(ours) == Qemu.img(args + [image.toString()]).json()
        Sha256.of(image) == before

        where:
        content                       | imageOptions  | ioCommands                                                          | bitmap | options
        'data and backing data'       | 'compat=1.1'  | ['write -P 2 2M 100k', 'write -P 3 5M 1k']                          | false  | ''
        'compressed and zero clusters'| 'compat=1.1'  | ['write -c -P 2 2M 64k', 'write -z 3M 1M', 'write -P 3 7M 4k']      | false  | 'cluster_size=4k'
        'a persistent bitmap'         | 'compat=1.1'  | ['write -P 2 2M 100k']                                              | true   | ''
        'v2 source'                   | 'compat=0.10' | ['write -P 2 2M 100k']                                              | false  | ''
        'a v2 target'                 | 'compat=1.1'  | ['write -P 2 2M 100k']                                              | true   | 'compat=0.10'
        'a backing file option'       | 'compat=1.1'  | ['write -P 2 2M 100k']                                              | false  | 'backing_file=x.qcow2'
        'full preallocation'          | 'compat=1.1'  | ['write -P 2 2M 100k']                                              | false  | 'preallocation=full'
    }

    def "measure of a raw image: sparse ranges do not count"() {
        given:
        def raw = dir.resolve('disk.raw')
        // truncate, not qemu-img create: qemu-img writes the first 4 KiB of a new raw file, which
        // SEEK_DATA then reports as data; our hole detection (no SEEK_HOLE in Java) sees zeros
        new RandomAccessFile(raw.toFile(), 'rw').withCloseable { it.setLength(16 << 20) }
        Qemu.io(raw, ['write -P 7 1M 300k', 'write -P 8 9M 64k'], 'raw')

        when:
        def ours = new RawImage(dev.qcow2.storage.FileStorage.openReadOnly(raw)).withCloseable {
            [qcow2: asJson(ImageMeasure.qcow2(new OptionList(), it)), raw: asJson(ImageMeasure.raw(0, it))]
        }

        then:
        ours.qcow2 == Qemu.img(['measure', '--output=json', '-O', 'qcow2', '-f', 'raw', raw.toString()]).json()
        ours.raw == Qemu.img(['measure', '--output=json', '-O', 'raw', '-f', 'raw', raw.toString()]).json()
    }

    def "measure options qemu-img refuses are refused with its reason"() {
        when:
        ImageMeasure.qcow2(new OptionList().add(options).set('size', '1M'), null)

        then:
        def e = thrown(IllegalArgumentException)
        'qemu-img: ' + e.message == Qemu.img(['measure', '-O', 'qcow2', '-o', options, '--size', '1M'], false).err.readLines()[0]

        where:
        options << ['compat=2', 'compat=0.10,refcount_bits=8', 'refcount_bits=3', 'preallocation=foo',
                    'cluster_size=1000', 'cluster_size=8k,extended_l2=on']
    }
}
