package dev.qcow2.dsl

import groovy.transform.CompileStatic

/** The command catalog: {@code help} shows it; the REPL completes from it and uses it for {@code :help}. */
@CompileStatic
final class Help {
    private Help() { }

    /** name, example, what it does */
    static final List<List<String>> COMMANDS = [
            ['open', "open 'disk.qcow2'  /  open 'disk.qcow2', writable: true", 'open an image (read-only unless writable: true)'],
            ['close', 'close', 'close the image'],
            ['info', 'info', 'format, sizes, features, backing file, snapshot count'],
            ['check', 'check', 'consistency check as qemu-img check (findings, leaks, corruptions)'],
            ['map', 'map  /  map from: snapshot(\'a\')', 'guest ranges and where they live, as qemu-img map'],
            ['header', 'header', 'every header field'],
            ['extensions', 'extensions', 'header extensions'],
            ['features', 'features', 'feature bits: set, known, named'],
            ['bitmaps', 'bitmaps', 'persistent dirty bitmaps: granularity, flags, set bits'],
            ['walk', 'walk l1  /  walk l2  /  walk l2, at: 0x10000000  /  walk(l2).findAll { it.compressed }', 'L1 or L2 table entries with host offsets, kinds, flags, refcounts'],
            ['refcounts', 'refcounts  /  refcounts.leaks  /  .mismatches  /  .histogram  /  .of(5)  /  .table', 'refcounts against references; the refcount table'],
            ['snapshot', "snapshot.list  /  snapshot.diff 'a', 'b'  /  snapshot.create 'x'  /  .apply  /  .delete  /  snapshot('a')", 'internal snapshots; snapshot(\'a\') is a read-only view'],
            ['read', 'read 0x10000, 512  /  read 1.5.MiB, 4.KiB  /  read 0x50000, 512, host: true', 'guest (or host) bytes as a hexdump'],
            ['cluster', 'cluster 3  /  cluster 5, host: true', 'one guest (or host) cluster as a hexdump'],
            ['find', "find 'text'  /  find ~/re+gex/  /  find([0x55, 0xaa], host: true)", 'search guest (or host) bytes'],
            ['export', "export raw: 'out.raw'  /  export snapshot: 'a', to: 'a.qcow2', format: 'qcow2'  /  export qcow2: 'c.qcow2', compress: true, overwrite: true",
             'the active state (or from: a snapshot) as a new raw or qcow2 image, as qemu-img convert; refuses an existing file unless overwrite: true'],
            ['unreferenced', "unreferenced  /  unreferenced.findAll { it.nonzero_bytes > 0 }  /  unreferenced[0].bytes  /  unreferenced[0].save(to: 'carved')",
             'host clusters nothing references or with refcount 0: refcount, contents (entropy, first bytes), owner; .bytes / .save(to:) on a row'],
            ['write', "write 0x10000, 'bytes'  /  write 0, from: 'file.bin'", 'write guest bytes (writable)'],
            ['zero', "zero 0, '64k'  /  zero 0, 64.KiB  /  zero 1.5.MiB, 2.GiB", 'make a range read as zeros (writable); sizes: quoted (\'64k\') or number.unit (B, KiB, MiB, GiB, TiB, PiB, EiB)'],
            ['discard', "discard '1M', '1M'", 'discard whole clusters (writable)'],
            ['writeCompressed', "writeCompressed 0, from: 'cluster.bin'", 'write whole clusters compressed (writable)'],
            ['repair', 'repair leaks  /  repair all', 'repair as qemu-img check -r, with an undo journal (writable)'],
            ['undo', 'undo', 'restore what the last repair changed (writable)'],
            ['undoJournal', 'undoJournal  /  undoJournal.committed  /  undoJournal[0].bytes  /  undoJournal[0].save(to: \'old.bin\')',
             'the last repair\'s undo journal: each range it changed (file offset, length, old bytes digest, old and current first bytes)'],
            ['help', 'help', 'this list'],
    ].collect { it as List<String> }

    static List<String> names() { COMMANDS.collect { it[0] } }

    /** The usage line of {@code name}, or null. */
    static String usage(String name) { COMMANDS.find { it[0] == name }?.get(1) }

    static Table table() {
        def t = Table.of('commands', [Column.plain('command'), Column.plain('example'), Column.plain('what')])
        COMMANDS.each { t.add(it[0], it[1], it[2]) }
        t.build()
    }
}
