package dev.qcow2.repair

import dev.qcow2.Qcow2Exception
import dev.qcow2.check.QemuCheck
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** RefcountEditor makes exactly the damage asked for, as qemu-img check sees it. */
class RefcountEditorSpec extends Specification {
    @TempDir Path dir

    Path image(String options) {
        def p = dir.resolve('e.qcow2')
        Qemu.create(p, '4M', options)
        Qemu.io(p, ['write -P 7 0 256k'])
        p
    }

    def "a leaked cluster with #options is one leak for qemu-img check, holding the bytes given"() {
        given:
        def p = image(options)

        when:
        long cluster = RefcountEditor.leakOneCluster(p, 'LEAKED'.bytes)
        def check = QemuCheck.reference(p)

        then:
        check.exit == 3
        check.counters.leaks == 1
        check.counters.corruptions == 0
        p.toFile().bytes.length % clusterSize == 0
        new String(p.toFile().bytes, (int) (cluster * clusterSize), 6) == 'LEAKED'

        where:
        options                                   | clusterSize
        'cluster_size=65536'                      | 65536
        'cluster_size=4096,refcount_bits=1'       | 4096
        'cluster_size=512,refcount_bits=64'       | 512
    }

    def "a refcount below the references is a corruption, above them a leak"() {
        given:
        def p = image('cluster_size=65536')

        when: 'the header cluster gets refcount 0, the L1 table (cluster 3) refcount 2'
        RefcountEditor.set(p, 0, 0)
        RefcountEditor.set(p, 3, 2)
        def check = QemuCheck.reference(p)

        then:
        check.counters.corruptions == 1
        check.counters.leaks == 1
    }

    def "impossible edits are refused with one line and change nothing: #why"() {
        given:
        def p = image(options)
        def before = Sha256.of(p)

        when:
        RefcountEditor.set(p, cluster, value)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains(message)
        Sha256.of(p) == before

        where:
        why                         | options                             | cluster     | value | message
        'no refcount block'         | 'cluster_size=65536'                | 1L << 40    | 1     | 'has no refcount block'
        'negative cluster'          | 'cluster_size=65536'                | -1          | 1     | 'has no refcount block'
        'too wide for 1-bit counts' | 'cluster_size=65536,refcount_bits=1' | 0          | 2     | 'does not fit in 1 bits'
        'negative refcount'         | 'cluster_size=65536'                | 0           | -1    | 'does not fit'
    }
}
