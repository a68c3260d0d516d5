package dev.qcow2.testing

import java.nio.file.Path

/**
 * A file's extents as the file system reports them (FIEMAP via e2fsprogs' filefrag -v). Unlike
 * st_blocks they count data blocks only, never the file system's own extent-tree blocks, whose
 * number depends on how fragmented the disk happened to be.
 */
final class Extents {
    private Extents() { }

    private static List<List> parse(Path p) {
        def r = Qemu.run(['filefrag', '-v', '-b4096', p.toString()])
        assert r.exit == 0: "filefrag failed: ${r.err}"
        r.out.readLines().findResults { line ->
            def m = line =~ /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+\d+:.*?([a-z_,]*)\s*$/
            m.find() ? [m.group(1) as long, m.group(2) as long, line.contains('unwritten')] : null
        }
    }

    /** Bytes in allocated blocks, written or not. */
    static long mappedBytes(Path p) { parse(p).sum(0L) { (it[1] - it[0] + 1) * 4096 } as long }

    /** Unwritten (fallocated, never written) 4 KiB blocks as merged [first, last] ranges. */
    static List<List<Long>> unwritten(Path p) {
        List<List<Long>> ranges = []
        parse(p).findAll { it[2] }.each { e ->
            if (ranges && ranges[-1][1] + 1 == e[0]) ranges[-1][1] = e[1]
            else ranges << [e[0], e[1]]
        }
        ranges
    }
}
