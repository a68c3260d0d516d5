package dev.qcow2.resize

import dev.qcow2.testing.Sha256

import dev.qcow2.UnsupportedFeatureException
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Found by RandomOpsModelSpec: growing an extended-L2 image whose backing file reaches past the
 * old end zeroes the new area (qcow2_co_truncate), starting with the rest of the old last
 * cluster by zero_l2_subclusters, which refuses a compressed cluster (-ENOTSUP). qemu-img
 * resize fails and leaves the image unchanged; so must we.
 */
class ResizeCompressedHeadSpec extends Specification {
    @TempDir Path dir

    def "growing past a compressed partial last cluster (#what) is #outcome, like qemu-img"() {
        given: 'twin images: extended L2, 32 KiB clusters, 44.5 KiB, over a 1 MiB raw backing file'
        def backing = dir.resolve('base.raw')
        byte[] fill = new byte[1 << 20]
        Arrays.fill(fill, (byte) 0x11)
        Files.write(backing, fill)
        def ours = Qemu.create(dir.resolve('ours.qcow2'), '45568', 'extended_l2=on,cluster_size=32768',
                ['-b', backing.toString(), '-F', 'raw'])
        Qemu.io(ours, "write ${compressed ? '-c ' : ''}-P 7 32768 12800")
        def twin = dir.resolve('twin.qcow2')
        Files.copy(ours, twin)
        String before = Sha256.of(ours)

        when:
        def qemu = Qemu.img(['resize', twin.toString(), '65536'], false)
        String error = null
        try {
            Qcow2Writer.open(ours, WriteOptions.defaults()).withCloseable { Resizer.resize(it, 65536) }
        } catch (UnsupportedFeatureException e) {
            error = e.message
        }

        then:
        (qemu.exit == 0) == (outcome == 'done')
        if (outcome == 'refused') {
            assert qemu.err.trim() == 'qemu-img: Failed to zero out new clusters: Operation not supported'
            assert error?.endsWith('Failed to zero out new clusters: Operation not supported')
            assert Sha256.of(ours) == before
        } else {
            assert error == null
        }
        Qemu.img(['check', ours.toString()], false).exit == 0
        Qemu.img(['compare', ours.toString(), twin.toString()], false).exit == 0

        where:
        what             | compressed | outcome
        'compressed'     | true       | 'refused'
        'not compressed' | false      | 'done'
    }
}
