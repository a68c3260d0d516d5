package dev.qcow2.cli

import dev.qcow2.dsl.DslShell
import dev.qcow2.dsl.Table
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * One view model: {@code qcow2 dump WHAT} and the DSL word that asks the same question render the
 * same view built by the core, so they give the same records (JSON) and the same text, on images
 * qemu-img made: compressed, zero, preallocated zero, extended L2 with subclusters, snapshots,
 * and a damaged refcount table.
 */
class ViewParitySpec extends Specification {
    @TempDir Path dir
    int maxTextRows

    def setup() { maxTextRows = Table.maxTextRows; Table.maxTextRows = Integer.MAX_VALUE }

    def cleanup() { Table.maxTextRows = maxTextRows }

    /** A 1k-cluster image whose second refcount block is named half a cluster off (unaligned: QEMU's -EIO). */
    private Path damagedRefblock() {
        def img = Qemu.create(dir.resolve('damaged.qcow2'), '4M', 'cluster_size=1024')
        Qemu.io(img, 'write -P 1 0 1M')
        new RandomAccessFile(img.toFile(), 'rw').withCloseable { f ->
            f.seek(48); long reftable = f.readLong()
            f.seek(reftable + 8); long e = f.readLong(); assert e != 0
            f.seek(reftable + 8); f.writeLong(e + 512)
        }
        img
    }

    /** The snapshots image with a persistent dirty bitmap that saw three clusters written. */
    private Path withBitmap() {
        def img = Images.build(dir, 'snapshots')
        Qemu.img('bitmap', '--add', '-g', '64k', img.toString(), 'dirty')
        Qemu.io(img, 'write -P 9 0 192k')
        img
    }

    def "#kind image: 'dump #what' and the DSL's '#word' give the same #type records and the same text"() {
        given:
        Path img = kind == 'damaged-refblock' ? damagedRefblock() : kind == 'bitmap' ? withBitmap() : Images.build(dir, kind)
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        def json = Cli.run(['dump'] + what.split(' ').toList() + ['--output=json', img.toString()])
        def text = Cli.run(['dump'] + what.split(' ').toList() + [img.toString()])
        def view = shell.evaluate(word)

        then:
        json.exit == 0 && text.exit == 0
        json.json() == new JsonSlurper().parseText(view.toJson())
        text.out == view.toString()
        def records = json.json() instanceof List ? json.json() : [json.json()]
        !records.isEmpty()
        records.every { it.type == type }
        check(records)

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before

        where:
        kind                | what                 | word                   || type              | check
        'compressed'        | 'l1'                 | 'walk l1'              || 'l1-entry'        | { r -> r.size() == 1 && r[0].refcount == 1 }
        'compressed'        | 'l2'                 | 'walk l2'              || 'l2-entry'        | { r -> r*.kind == ['compressed', 'compressed', 'normal'] && r[0].compressed_bytes > 0 }
        'zero-discard'      | 'l2'                 | 'walk l2'              || 'l2-entry'        | { r -> r.find { it.guest_offset == 0x10000 }.kind == 'zero-alloc' && r.find { it.guest_offset == 0x40000 }.kind == 'zero-plain' && r.every { it.kind != 'zero-alloc' || it.zero && it.host_offset != null } }
        'prealloc-metadata' | 'l2'                 | 'walk l2'              || 'l2-entry'        | { r -> r.size() == 32 && r.every { it.kind == 'normal' && it.refcount == 1 } }
        'extl2'             | 'l2'                 | 'walk l2'              || 'l2-entry'        | { r -> r.size() == 1 && r[0].subcluster_bitmap == 0x0000_0400_0000_0061L && !r[0].zero }
        'extl2'             | 'header'             | 'header'               || 'header'          | { r -> r[0].incompatible_feature_names == ['extended L2 entries'] }
        'snapshots'         | 'snapshots'          | 'snapshot.list'        || 'snapshot'        | { r -> r*.name == ['one', 'two'] && r.every { it.vm_clock == '00:00:00.000' } }
        'snapshots'         | 'l2 --snapshot one'  | "walk l2, from: 'one'" || 'l2-entry'        | { r -> r*.guest_offset == [0, 65536] && r.every { it.kind == 'normal' && it.refcount >= 1 } }
        'snapshots'         | 'refcounts'          | 'refcounts'            || 'refcount'        | { r -> r.every { it.status == 'ok' } && r.any { it.refcount > 1 } }
        'snapshots'         | 'extensions'         | 'extensions'           || 'header-extension' | { r -> r*.name == ['feature-name-table'] }
        'bitmap'            | 'bitmaps'            | 'bitmaps'              || 'bitmap'          | { r -> r*.name == ['dirty'] && r[0].granularity == 65536 && r[0].set_bits == 3 && r[0].auto }
        'bitmap'            | 'extensions'         | 'extensions'           || 'header-extension' | { r -> r*.name.contains('bitmaps') }
        'zstd'              | 'features'           | 'features'             || 'feature-bit'     | { r -> r.find { it.kind == 'incompatible' && it.bit == 3 }.set }
        'damaged-refblock'  | 'refcount-table'     | 'refcounts.table'      || 'reftable-entry'  | { r -> r*.status == ['ok', 'unaligned', 'ok'] && r[1].refcount == null }
        'damaged-refblock'  | 'refcounts'          | 'refcounts'            || 'refcount'        | { r -> r.any { it.status == 'unreadable' && it.refcount == null } && r[0].status == 'ok' }
    }
}
