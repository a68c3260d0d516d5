package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The read-only commands on an image made by qemu-io and on one written by our writer, each
 * cross-checked with qemu-img; none of them changes a byte of the file.
 */
class ReadCommandsSpec extends Specification {
    @TempDir Path dir

    def "#maker image: map is qemu-img map, walk l2 counts are qemu-img check's, read and export are qemu-img convert's"() {
        given:
        Path img = build(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        def qemuMap = Qemu.img('map', '--output=json', img.toString()).json()
        def qemuCheck = Qemu.img('check', '--output=json', img.toString()).json()
        byte[] raw = Qemu.rawBytes(img)
        def out = dir.resolve('out.raw')

        when:
        Table map = shell.evaluate('map')
        Table l2 = shell.evaluate('walk l2')
        Hexdump all = shell.evaluate("read 0, ${raw.length}")
        Record exported = shell.evaluate("export raw: '$out'")

        then:
        map.collect { [it.start, it.length, it.depth, it.present, it.zero, it.data, it.offset] } ==
                qemuMap.collect { [it.start, it.length, it.depth, it.present, it.zero, it.data, it.offset] }
        l2.findAll { it.compressed }.size() == qemuCheck.'compressed-clusters'
        l2.findAll { it.kind in ['normal', 'compressed'] || it.host_offset != null }.size() == qemuCheck.'allocated-clusters'
        l2.findAll { it.kind == 'normal' }.every { it.refcount == 1L && it.copied }
        all.bytes == raw
        Files.readAllBytes(out) == raw
        exported.size == raw.length

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before

        where:
        maker         | build
        'qemu-io'     | { Path d -> Fixtures.mixed(d) }
        'our writer'  | { Path d -> Fixtures.ours(d) }
    }

    def "info, header, extensions and features agree with qemu-img info"() {
        given:
        def img = Fixtures.mixed(dir)
        def before = Sha256.of(img)
        def qemu = Qemu.img('info', '--output=json', img.toString()).json()
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Record info = shell.evaluate('info')
        Record header = shell.evaluate('header')
        Table extensions = shell.evaluate('extensions')
        Table features = shell.evaluate('features')

        then:
        info.virtual_size == qemu.'virtual-size'
        info.cluster_size == qemu.'cluster-size'
        info.compat == qemu.'format-specific'.data.compat
        info.refcount_bits == qemu.'format-specific'.data.'refcount-bits'
        header.magic == 0x514649FBL
        header.cluster_bits == 16L
        header.size == qemu.'virtual-size'
        extensions*.name == ['feature-name-table']
        features.findAll { it.set }.isEmpty()
        features.find { it.kind == 'incompatible' && it.bit == 1 }.name == 'corrupt bit'

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "walk l1 shows the L2 tables; walk l2, at: names the entry for one guest offset, allocated or not"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table l1 = shell.evaluate('walk l1')
        Table compressed = shell.evaluate('walk l2, at: 0x40000')
        Table zeroed = shell.evaluate("walk l2, at: '512k'")
        Table hole = shell.evaluate('walk l2, at: 0xf0000')

        then:
        l1.size() == 1 && l1[0].l2_offset != null && l1[0].refcount == 1L
        compressed[0].kind == 'compressed' && compressed[0].compressed_bytes > 0 && !compressed[0].copied
        zeroed[0].kind == 'zero-alloc' && zeroed[0].zero && zeroed[0].host_offset != null
        hole[0].kind == 'unallocated' && hole[0].host_offset == null

        cleanup:
        shell?.close()
    }

    def "read, cluster and find in guest and host space"() {
        given:
        def img = Fixtures.mixed(dir)
        def before = Sha256.of(img)
        byte[] raw = Qemu.rawBytes(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        long host = shell.evaluate('walk(l2, at: 0x30000)[0].host_offset') + 16

        expect:
        shell.evaluate('read 0x30010, 6').asText() == 'NEEDLE'
        shell.evaluate('cluster 4').bytes == Arrays.copyOfRange(raw, 4 * 65536, 5 * 65536)
        shell.evaluate("find 'NEEDLE'")*.offset == [0x30010L]
        shell.evaluate('find ~/NEE+D[L]E/')*.offset == [0x30010L]
        shell.evaluate("find 'NEEDLE', host: true")*.offset == [host]
        shell.evaluate("read $host, 6, host: true").asText() == 'NEEDLE'
        shell.evaluate("find([0x51, 0x46, 0x49, 0xfb], host: true)")*.offset == [0L]
        shell.evaluate("find 'NEEDLE', limit: 0").size() == 0

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "reads past the end and bad options are one-line errors"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message

        cleanup:
        shell?.close()

        where:
        code                   | message
        "read '1M', 1"         | 'read: guest bytes 0x100000+1 are past the end of the disk (1048576 bytes)'
        'cluster 16'           | 'cluster 16 is past the end of the disk (16 clusters)'
        'walk l2, near: 5'     | 'walk: unknown option near; known: at, from, all'
        "find ''"              | 'find: the pattern is empty'
        "walk l2, at: '2M'"    | 'walk: guest offset 0x200000 is past the end of the disk (1048576 bytes)'
    }
}
