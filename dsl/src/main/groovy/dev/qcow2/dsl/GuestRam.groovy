package dev.qcow2.dsl

import dev.qcow2.vmstate.GuestMemory

import java.nio.charset.StandardCharsets

/**
 * A RAM block of a snapshot's VM state at guest-physical addresses ({@code vmstate.ram}):
 * {@code read(gpa, n)} as a hexdump, {@code find} of bytes or text. Pages come from the stored
 * stream on demand; the index holds one entry per page with data.
 */
class GuestRam {
    private final GuestMemory memory
    private final String snapshot

    GuestRam(GuestMemory memory, String snapshot) {
        this.memory = memory
        this.snapshot = snapshot
    }

    /** The guest-physical end of the RAM (past 4 GiB when part of it sits above). */
    long getSize() { memory.size() }

    String getBlock() { memory.layout().block() }

    /** "ram@s1": the space {@link #read} offsets are in. */
    String getSpace() { "ram@$snapshot" }

    /** {@code ram.read(0x100000, 64)}: guest-physical bytes as a hexdump (the hole below 4 GiB reads as zeros). */
    Hexdump read(Object gpa, Object length) {
        long at = Sizes.parse(gpa, 'gpa')
        long n = Sizes.parse(length, 'length')
        if (n > 64L << 20) throw new DslException("ram.read: at most 64 MiB at a time, not $n bytes")
        if (at + n > memory.size()) {
            throw new DslException("ram.read: ${Sizes.hex(at)}+$n is past the end of the RAM (${memory.size()} bytes)")
        }
        byte[] b = new byte[(int) n]
        Guard.run { memory.read(at, b, 0, (int) n) }
        new Hexdump(space, at, b)
    }

    Table find(Object pattern) { find([:], pattern) }

    /** {@code ram.find('secret')} / {@code ram.find([0xde, 0xad] as byte[], limit: 10)}: guest-physical addresses of the matches. */
    Table find(Map options, Object pattern) {
        Options.check(options, 'find', ['limit'])
        byte[] p
        if (pattern instanceof byte[]) p = (byte[]) pattern
        else if (pattern instanceof List) p = ((List) pattern).collect { (byte) ((Number) it).intValue() } as byte[]
        else if (pattern instanceof CharSequence) p = pattern.toString().getBytes(StandardCharsets.UTF_8)
        else throw new DslException("find: takes a string or bytes ([0x55, 0xaa] as byte[]), not ${pattern?.getClass()?.simpleName}")
        if (p.length == 0 || p.length > memory.pageSize()) throw new DslException("find: the pattern is 1 to ${memory.pageSize()} bytes")
        int limit = options.limit == null ? 1000 : (int) Sizes.parse(options.limit, 'limit')
        def t = Table.of("matches in $space", [Column.hex('gpa'), Column.bytes('length')], 'match')
        Guard.run {
            long from = 0
            int found = 0
            while (found < limit) {
                long at = memory.find(p, from)
                if (at < 0) break
                t.add(at, (long) p.length)
                found++
                from = at + 1
            }
        }
        t.build()
    }

    String toString() { "RAM block ${block} of snapshot '$snapshot': ${size} bytes of guest-physical space" }
}
