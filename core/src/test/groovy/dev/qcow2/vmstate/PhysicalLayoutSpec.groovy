package dev.qcow2.vmstate

import spock.lang.Specification

/** The x86 RAM split of QEMU 7.2's pc_init1 (i440fx) and pc_q35_init. */
class PhysicalLayoutSpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    def "#machineType with #ramMiB MiB: #belowMiB MiB below 4 GiB (max-ram-below-4g #maxMiB)"() {
        when:
        def ranges = PhysicalLayout.x86(Machine.of(machineType), Machine.gigabyteAlign(machineType), ramMiB * M,
                maxMiB == null ? null : maxMiB * M)

        then:
        ranges[0] == new RamRange(0, 0, belowMiB * M)
        ranges.size() == (belowMiB == ramMiB ? 1 : 2)
        ranges.size() == 1 || ranges[1] == new RamRange(belowMiB * M, 4 * G, (ramMiB - belowMiB) * M)

        where:
        machineType     | ramMiB | maxMiB | belowMiB
        'pc-i440fx-7.2' | 64     | null   | 64
        'pc-i440fx-7.2' | 3072   | null   | 3072    // reaches 3 GiB but not 3.5 GiB: all below
        'pc-i440fx-7.2' | 3300   | null   | 3300
        'pc-i440fx-7.2' | 3584   | null   | 3072    // >= 3.5 GiB: gigabyte-aligned to 3 GiB
        'pc-i440fx-7.2' | 8192   | null   | 3072
        'pc-i440fx-1.7' | 4096   | null   | 3584    // before 2.0 no gigabyte alignment: 3.5 GiB
        'pc-1.3'        | 4096   | null   | 3584
        'pc-i440fx-7.2' | 64     | 32     | 32
        'pc-i440fx-7.2' | 4096   | 2048   | 2048
        'pc-q35-7.2'    | 2048   | null   | 2048
        'pc-q35-7.2'    | 2815   | null   | 2815    // below 2.75 GiB: all below
        'pc-q35-7.2'    | 2816   | null   | 2048    // 2.75 GiB: 2 GiB below
        'pc-q35-7.2'    | 8192   | null   | 2048
        'pc-q35-7.2'    | 64     | 32     | 32
        'q35'           | 1024   | 512    | 512
    }

    def "machine families from configuration section names"() {
        expect:
        Machine.of(name) == family

        where:
        name             | family
        'pc-i440fx-7.2'  | Machine.PC
        'pc'             | Machine.PC
        'pc-1.0'         | Machine.PC
        'pc-q35-2.12'    | Machine.Q35
        'q35'            | Machine.Q35
        'microvm'        | null
        'isapc'          | null
        null             | null
    }
}
