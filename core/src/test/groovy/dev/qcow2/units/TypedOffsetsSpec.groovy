package dev.qcow2.units

import dev.qcow2.format.L1Entry
import dev.qcow2.format.L2Entry
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.Extent
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** The typed views of the mapping: guest and host offsets come back as distinct types. */
class TypedOffsetsSpec extends Specification {
    @TempDir Path dir

    def "a data extent's typed guest and host offsets agree with qemu-img map"() {
        given:
        def img = Qemu.create(dir.resolve('t.qcow2'), '4M')
        Qemu.io(img, 'write -P 0x5a 1M 64k')
        def ref = Qemu.img('map', '--output=json', img.toString()).json().find { it.data }

        when:
        def image = Qcow2Image.open(img)
        Extent extent = image.mapper().extent(GuestOffset.of(1 << 20), 64 << 10)
        L2Entry entry = image.mapper().entry(GuestOffset.of(1 << 20))
        def l1 = new L1Entry(image.mapper().l1Table()[0])
        byte[] bytes = new byte[16]
        image.read(GuestOffset.of(1 << 20), bytes)

        then:
        extent instanceof Extent.Data
        extent.guestOffset() == GuestOffset.of(1 << 20)
        (extent as Extent.Data).hostOffset() == HostOffset.of(ref.offset as long)
        (entry as L2Entry.Normal).host() == HostOffset.of(ref.offset as long)
        l1.l2Table().get().alignedCluster(image.geometry()).isPresent()
        (extent as Extent.Data).hostOffset().cluster(image.geometry()) == new HostCluster((ref.offset as long) >> 16)
        bytes.every { it == 0x5a as byte }

        cleanup:
        image?.close()
    }

    def "an unaligned host offset has no aligned cluster"() {
        given:
        def geo = new ClusterGeometry(16, 4, false)

        expect:
        HostOffset.of(offset).alignedCluster(geo).map { it.index() }.orElse(-1L) == cluster

        where:
        offset  | cluster
        0       | 0
        0x10000 | 1
        0x10200 | -1
        0x30000 | 3
    }
}
