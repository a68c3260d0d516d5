package dev.qcow2.refcount

import dev.qcow2.CorruptImageException
import dev.qcow2.alloc.ClusterAllocator
import dev.qcow2.alloc.RefcountStore
import dev.qcow2.alloc.SyncedStorage
import dev.qcow2.format.RefcountBlockCodec
import dev.qcow2.storage.MemoryStorage
import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.units.ClusterGeometry
import spock.lang.Specification

import java.nio.ByteBuffer

/**
 * The one refcount reader against a model: synthetic refcount structures (reftable at cluster
 * 1, refcount blocks after it) with seeded random refcounts, and damaged reftable entries.
 */
class RefcountReaderSpec extends Specification {

    /** A synthetic image: the reftable at cluster 1, its blocks from cluster 1 + tableClusters. */
    static class Layout {
        ClusterGeometry geo
        int tableClusters
        long[] reftable
        Map<Long, Long> refcounts = [:]
        byte[] bytes

        long tableOffset() { geo.clusterSize() }

        static Layout random(long seed, int clusterBits, int order, int tableClusters, int blocks) {
            def rnd = new Random(seed)
            def l = new Layout(geo: new ClusterGeometry(clusterBits, order, false), tableClusters: tableClusters)
            int cs = l.geo.clusterSize()
            int entries = tableClusters * cs / 8
            l.reftable = new long[entries]
            long perBlock = l.geo.refblockEntries()
            long max = RefcountBlockCodec.max(order)
            Map<Long, byte[]> content = [:]
            long next = 1 + tableClusters
            blocks.times {
                int t = rnd.nextInt(entries)
                if (l.reftable[t] != 0) return
                l.reftable[t] = next * cs
                byte[] b = new byte[cs]
                20.times {
                    long i = (long) (rnd.nextDouble() * perBlock)
                    long v = max == -1L ? rnd.nextLong() : (long) (rnd.nextDouble() * (max + 1))
                    RefcountBlockCodec.set(b, order, i, v)
                    if (v != 0) l.refcounts[t * perBlock + i] = v else l.refcounts.remove(t * perBlock + i)
                }
                content[next * cs] = b
                next++
            }
            l.bytes = new byte[(int) (next * cs)]
            def table = ByteBuffer.wrap(l.bytes, cs, entries * 8)
            l.reftable.each { table.putLong(it) }
            content.each { off, b -> System.arraycopy(b, 0, l.bytes, (int) off, cs) }
            l
        }

        void putEntry(int index, long raw) {
            reftable[index] = raw
            ByteBuffer.wrap(bytes).putLong((int) (tableOffset() + 8 * index), raw)
        }

        Reftable reftable(Reftable.Policy policy) {
            Reftable.read(new MemoryStorage('t.qcow2', bytes), geo, tableOffset(), tableClusters, policy)
        }

        RefcountReader reader(Reftable.Policy policy = Reftable.Policy.QEMU, RefcountReader.Cache cache = RefcountReader.Cache.SCAN) {
            new RefcountReader(new MemoryStorage('t.qcow2', bytes), reftable(policy), cache)
        }
    }

    def "every refcount reads as the model has it (seed #seed, cluster_bits #bits, refcount order #order, #cache)"() {
        given:
        def l = Layout.random(seed, bits, order, tableClusters, blocks)
        def reader = l.reader(Reftable.Policy.QEMU, cache)
        long covered = l.reftable.length * l.geo.refblockEntries()
        def rnd = new Random(seed)

        expect: 'every nonzero refcount, twice in a shuffled order (the scan cache evicts and rereads)'
        def clusters = (l.refcounts.keySet() as List) * 2
        Collections.shuffle(clusters, rnd)
        clusters.every { reader.get(it) == l.refcounts[it] }

        and: 'random clusters, including past the reftable, read as the model (0 where nothing is set)'
        (0..<2000).every {
            long c = (long) (rnd.nextDouble() * covered * 1.5)
            reader.get(c) == (l.refcounts[c] ?: 0L)
        }

        where:
        seed | bits | order | tableClusters | blocks | cache
        1    | 9    | 4     | 4             | 150    | RefcountReader.Cache.SCAN
        2    | 9    | 0     | 2             | 100    | RefcountReader.Cache.SCAN
        3    | 12   | 6     | 1             | 90     | RefcountReader.Cache.SCAN
        4    | 12   | 1     | 1             | 70     | RefcountReader.Cache.RETAIN
        5    | 16   | 3     | 1             | 8      | RefcountReader.Cache.SCAN
        6    | 10   | 5     | 3             | 120    | RefcountReader.Cache.RETAIN
        7    | 11   | 2     | 2             | 200    | RefcountReader.Cache.SCAN
    }

    def "a damaged reftable entry (#reason) is found where it is, and is unreadable only under the policies that refuse it"() {
        given:
        def l = Layout.random(11, 12, 4, 1, 3)
        int index = 5
        long good = l.reftable.find { it != 0 }
        l.putEntry(index, entry(good, l.bytes.length))
        long cluster = index * l.geo.refblockEntries() + 7

        when:
        def damage = l.reftable(Reftable.Policy.QEMU).damage(index)

        then:
        damage.reason() == reason
        damage.index() == index
        damage.entryFileOffset() == l.tableOffset() + 8 * index
        damage.raw() == l.reftable[index]

        expect:
        readAs(l, Reftable.Policy.QEMU, cluster) == qemu
        readAs(l, Reftable.Policy.WRITER, cluster) == writer

        where:
        reason                                  | entry                                  || qemu         | writer
        ReftableDamage.Reason.RESERVED_BITS     | { long g, long len -> g | 0x1 }        || 'readable'   | 'readable'
        ReftableDamage.Reason.RESERVED_BITS     | { long g, long len -> 0x100L }         || 'readable'   | 'readable'
        ReftableDamage.Reason.UNALIGNED         | { long g, long len -> g + 512 }        || 'UNALIGNED'  | 'UNALIGNED'
        ReftableDamage.Reason.PAST_END_OF_FILE  | { long g, long len -> len + 4096 * 3 } || 'readable'   | 'PAST_END_OF_FILE'
        ReftableDamage.Reason.PAST_END_OF_FILE  | { long g, long len -> 1L << 62 }       || 'readable'   | 'PAST_END_OF_FILE'
    }

    /** 'readable', or the reason of the one unreadable exception after checking where it points. */
    private static String readAs(Layout l, Reftable.Policy policy, long cluster) {
        try {
            l.reader(policy).get(cluster)
            return 'readable'
        } catch (RefcountUnreadableException e) {
            int index = (int) (cluster / l.geo.refblockEntries())
            assert e.structure() == 'refcount table'
            assert e.fileOffset() == l.tableOffset() + 8 * index
            assert e.reftableIndex() == index
            assert e.rawValue() == l.reftable[index]
            assert e.message.contains('reftable index: 0x' + Integer.toHexString(index))
            return e.reason().name()
        }
    }

    def "a sound entry, an empty one and one past the table have no damage and read as QEMU reads them"() {
        given:
        def l = Layout.random(12, 12, 4, 1, 2)
        int used = l.reftable.findIndexOf { it != 0 }
        int empty = l.reftable.findIndexOf { it == 0 }
        def t = l.reftable(Reftable.Policy.WRITER)

        expect:
        t.damage(used) == null
        t.damage(empty) == null
        t.refblockOffset(used) == l.reftable[used]
        t.refblockOffset(empty) == 0
        t.refblockOffset(t.size()) == 0
        t.refblockOffset(Long.MAX_VALUE) == 0
        l.reader().get(Long.MAX_VALUE >>> 12) == 0
    }

    def "the writer's refcount store reports a damaged entry at its file offset (#reason)"() {
        given: 'an image whose reftable entry 0 (describing cluster 0, where allocation starts) is damaged'
        def l = Layout.random(13, 12, 4, 1, 1)
        int index = 0
        l.putEntry(index, raw(l.reftable.find { it != 0 }, l.bytes.length))
        def storage = new SyncedStorage(new MemoryWritableStorage('w.qcow2', l.bytes))
        def store = new RefcountStore(storage, l.geo, l.tableOffset(), 1)

        when:
        store.get(index * l.geo.refblockEntries())

        then:
        def e = thrown(CorruptImageException)
        e instanceof RefcountUnreadableException
        e.structure() == 'refcount table'
        e.fileOffset() == l.tableOffset() + 8 * index
        e.rawValue() == l.reftable[index]

        when: 'the allocator meets it while scanning for free clusters'
        new ClusterAllocator(storage, store).allocate(1)

        then:
        def a = thrown(RefcountUnreadableException)
        a.fileOffset() == l.tableOffset() + 8 * a.reftableIndex()

        where:
        reason             | raw
        'unaligned'        | { long g, long len -> g + 1024 }
        'past end of file' | { long g, long len -> len + (4096 << 4) }
    }
}
