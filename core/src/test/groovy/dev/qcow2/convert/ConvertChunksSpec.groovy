package dev.qcow2.convert

import dev.qcow2.image.RawImage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/** The source side of convert: every guest byte handed over once, in order, from raw and qcow2 sources. */
class ConvertChunksSpec extends Specification {
    @TempDir Path dir

    static final int CHUNK = ConvertChunks.CHUNK

    /** Random bytes with every third 4 KiB block zeroed, so chunks hold both kinds. */
    static byte[] content(int length) {
        byte[] b = new byte[length]
        new Random(length).nextBytes(b)
        for (int block = 0; block * 4096 < length; block += 3) {
            Arrays.fill(b, block * 4096, Math.min(length, block * 4096 + 4096), (byte) 0)
        }
        b
    }

    /** Index of the first differing byte, -1 if equal (a failure message must not print megabytes). */
    static int firstDifference(byte[] a, byte[] b) { Arrays.mismatch(a, b) }

    /** Runs a copy that records each chunk's bytes and offset, and the thread each was prepared on. */
    static Map collect(dev.qcow2.image.BlockDevice src) {
        def out = new ByteArrayOutputStream()
        List<Long> offsets = []
        Set<String> preparedOn = [] as Set
        ConvertChunks.copy(src, 2, { ConvertChunks.Chunk c -> Thread.currentThread().name }, { ConvertChunks.Chunk c, String thread ->
            byte[] b = new byte[c.length()]
            c.data().get(0, b)
            out.write(b)
            offsets << c.offset()
            preparedOn << thread
        } as ConvertChunks.Write)
        [bytes: out.toByteArray(), offsets: offsets, preparedOn: preparedOn]
    }

    def "a raw file of #length bytes is handed over in #chunks chunks, in order"() {
        given: 'a raw file; QEMU sizes a raw disk in whole sectors, the tail past EOF reading as zeros'
        byte[] bytes = content(length)
        def file = dir.resolve('src.raw')
        Files.write(file, bytes)
        def image = RawImage.open(file)

        when:
        def got = collect(image)
        long handedOver = got.bytes.length
        int difference = firstDifference(got.bytes, Arrays.copyOf(bytes, (int) image.size()))

        then:
        handedOver == image.size()
        difference == -1
        got.offsets == (0..<chunks).collect { it * (long) CHUNK }
        got.preparedOn == ['convert'] as Set

        cleanup:
        image?.close()

        where:
        length                 || chunks
        4096                   || 1
        CHUNK                  || 1
        2 * CHUNK + 8192       || 3
        2 * CHUNK + 1000       || 3      // the last sector runs past EOF: zero-padded
        1000                   || 1
    }

    def "a qcow2 source is handed over equal to qemu-img convert -O raw"() {
        given:
        def raw = dir.resolve('src.raw')
        Files.write(raw, content(CHUNK + 3 * 65536))
        def img = dir.resolve('src.qcow2')
        Qemu.img(['convert', '-c', '-O', 'qcow2', raw.toString(), img.toString()])
        def expected = dir.resolve('expected.raw')
        Qemu.img(['convert', '-O', 'raw', img.toString(), expected.toString()])
        def image = dev.qcow2.image.Qcow2Image.open(img)

        when:
        def got = collect(image)
        int difference = firstDifference(got.bytes, Files.readAllBytes(expected))

        then:
        difference == -1
        got.offsets == [0L, (long) CHUNK]

        cleanup:
        image?.close()
    }

    def "dataRuns lists the runs of blocks holding a non-zero byte: #pattern"() {
        given: 'one character per 4 KiB block: x data, . zero; a trailing digit is a short last block of that many KiB'
        def blocks = pattern.toList()
        def buf = ByteBuffer.allocateDirect(CHUNK)
        int length = 0
        blocks.each { ch ->
            int size = ch ==~ /\d/ ? Integer.parseInt(ch) * 1024 : 4096
            if (ch == 'x' || ch ==~ /\d/) buf.put(length + size - 1, (byte) 7)
            length += size
        }
        def chunk = new ConvertChunks.Chunk(0, buf, length)

        expect:
        chunk.dataRuns(4096) as List == runs

        where:
        pattern    || runs
        '....'     || []
        'xxxx'     || [0, 16384]
        'x..x'     || [0, 4096, 12288, 16384]
        '.xx.'     || [4096, 12288]
        '..x1'     || [8192, 13312]
        'x...1'    || [0, 4096, 16384, 17408]
    }

    def "workers: one per core for heavy preparation, else one core left to the writer"() {
        given:
        int cores = Runtime.runtime.availableProcessors()

        expect:
        ConvertChunks.workers(true) == Math.min(8, cores)
        ConvertChunks.workers(false) == Math.max(1, Math.min(8, cores - 1))
    }

    def "a failing write stops the copy with its own exception"() {
        given:
        def file = dir.resolve('src.raw')
        Files.write(file, content(3 * CHUNK))
        def image = RawImage.open(file)
        int writes = 0

        when:
        ConvertChunks.copy(image, 2, { it }, { c, p ->
            if (++writes == 2) throw new IOException("disk full")
        } as ConvertChunks.Write)

        then:
        def e = thrown(IOException)
        e.message == 'disk full'
        writes == 2

        cleanup:
        image?.close()
    }

    def "a failing preparation surfaces as its own exception, not an ExecutionException"() {
        given:
        def file = dir.resolve('src.raw')
        Files.write(file, content(CHUNK))
        def image = RawImage.open(file)

        when:
        ConvertChunks.copy(image, 2, { throw new IllegalStateException("bad chunk") }, { c, p -> } as ConvertChunks.Write)

        then:
        def e = thrown(IllegalStateException)
        e.message == 'bad chunk'

        cleanup:
        image?.close()
    }
}
