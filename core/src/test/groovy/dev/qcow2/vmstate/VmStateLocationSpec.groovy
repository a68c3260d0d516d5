package dev.qcow2.vmstate

import dev.qcow2.format.SnapshotEntry
import dev.qcow2.units.ClusterGeometry
import spock.lang.Specification

/** qcow2_vm_state_offset: the first L1-entry boundary at or past the snapshot's disk size. */
class VmStateLocationSpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    def "disk #diskSize with #clusterBits-bit clusters (extended L2 #extended): state at #expected"() {
        given:
        def entry = new SnapshotEntry(0, 0, 1, '1', 's', 0, 0, 0, 12345, 16, diskSize, true, -1, new byte[0], 0)

        when:
        def loc = VmStateLocation.of(entry, new ClusterGeometry(clusterBits, 4, extended))

        then:
        loc.offset().value() == expected
        loc.size() == 12345
        loc.end() == expected + 12345

        where:
        diskSize       | clusterBits | extended | expected
        100 * M        | 16          | false    | 512 * M      // 64 KiB clusters: 512 MiB per L1 entry
        512 * M        | 16          | false    | 512 * M      // a multiple: right at the end of the disk
        512 * M + 512  | 16          | false    | 1 * G
        0              | 16          | false    | 0
        300 * M        | 16          | true     | 512 * M      // extended L2: 256 MiB per entry
        256 * M        | 16          | true     | 256 * M
        100 * M        | 12          | false    | 100 * M      // 4 KiB clusters: 2 MiB per entry
        101 * M        | 12          | false    | 102 * M
        100 * M        | 21          | false    | 512 * G      // 2 MiB clusters: 512 GiB per entry
        100 * M        | 9           | false    | 100 * M      // 512-byte clusters: 32 KiB per entry
    }
}
