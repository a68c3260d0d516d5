package dev.qcow2.convert

import dev.qcow2.storage.MemoryWritableStorage
import spock.lang.Specification

import java.nio.ByteBuffer

/** The convert target's page cache must read and end up exactly like a plain file. */
class ConvertTargetStorageSpec extends Specification {

    def "random small and large writes, reads and growth match a plain storage (seed #seed)"() {
        given:
        def rnd = new Random(seed)
        def model = new MemoryWritableStorage('model')
        def backing = new MemoryWritableStorage('file')
        def cached = new ConvertTargetStorage(backing)

        when:
        List<String> mismatches = []
        300.times { step ->
            long offset = rnd.nextInt(200_000)
            switch (rnd.nextInt(4)) {
                case 0: // small write, maybe across a page boundary
                case 1:
                    byte[] b = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 5000)]
                    rnd.nextBytes(b)
                    model.write(offset, ByteBuffer.wrap(b)); cached.write(offset, ByteBuffer.wrap(b))
                    break
                case 2: // growth, as the allocator extends the file
                    long len = Math.max(model.size(), offset)
                    model.setLength(len); cached.setLength(len)
                    break
                default:
                    int n = 1 + rnd.nextInt(9000)
                    def a = ByteBuffer.allocate(n); def c = ByteBuffer.allocate(n)
                    model.readFully(offset, a); cached.readFully(offset, c)
                    if (a.array() != c.array()) mismatches << "read $n at $offset (step $step)"
                    if (cached.size() != model.size()) mismatches << "size at step $step"
            }
        }
        cached.close()

        then:
        mismatches == []
        backing.toByteArray() == model.toByteArray()

        where:
        seed << (1..8)
    }
}
