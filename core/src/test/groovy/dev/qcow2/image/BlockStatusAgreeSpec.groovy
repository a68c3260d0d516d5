package dev.qcow2.image

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The top layer's block status agrees with {@code qemu-img map --output=json} where they speak
 * of the same thing: a range is allocated in the top image exactly when qemu reports it present
 * at depth 0; there, "data" matches, and a reported offset is our host offset. Our extents tile
 * the disk, and whatever we call zero reads as zeros.
 */
class BlockStatusAgreeSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() { println "BlockStatusAgreeSpec seed=$seed (replay with -Dqcow2.seed=$seed)" }

    def "#name: top-layer block status agrees with qemu-img map"() {
        given:
        def image = ImageMatrix.build(name, dir, seed)
        def map = Qemu.img('map', '--output=json', image.toString()).json()
        byte[] raw = Qemu.rawBytes(image)
        def before = FileHashes.of(dir)

        when:
        def problems = []
        Qcow2Image.open(image, OpenOptions.permissive()).withCloseable { img ->
            map.each { q ->
                long pos = q.start
                long end = q.start + q.length
                boolean topAllocated = q.depth == 0 && q.present
                while (pos < end) {
                    def s = img.blockStatus(pos, end - pos)
                    if (s.guestOffset() != pos || s.length() <= 0) { problems << "bad extent $s at $pos"; break }
                    def where = "[$pos, +${s.length()}) qemu $q ours $s"
                    if (s.allocated() != topAllocated) problems << "allocated differs $where"
                    if (topAllocated && s.data() != q.data) problems << "data differs $where"
                    if (topAllocated && q.offset != null && s.hostOffset() != q.offset + (pos - q.start)) problems << "offset differs $where"
                    if (s.zero() && !isZero(raw, pos, s.length())) problems << "zero extent with non-zero bytes $where"
                    pos += s.length()
                }
            }
        }

        then:
        problems == []
        map.sum { it.length } == raw.length
        FileHashes.of(dir) == before

        where:
        name << ImageMatrix.names()
    }

    static boolean isZero(byte[] b, long from, long length) {
        for (long i = from; i < from + length; i++) if (b[(int) i] != 0) return false
        true
    }
}
